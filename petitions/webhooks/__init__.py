"""Webhooks: organisers' URLs that receive signed POSTs when signatures change state."""
