"""Letters per recipient, folded by the workers (``jobs.py``) into ``letter_target_tallies``."""
