"""Abuse resistance: rate limits, bot traps, trending alerts and bulk invalidation."""
