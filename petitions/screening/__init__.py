"""Screening a submission before it is recorded: rate limits, form stamps, bot traps."""
