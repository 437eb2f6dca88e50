"""Daily digests: one email a day per recipient with that day's letters (``jobs.py``)."""
