"""The operator's branding: the organisation's name, logo, colour, footer links and sender name,
used by every page and email (issue 15)."""
