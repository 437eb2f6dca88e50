"""Events (days of action, gatherings): actions with a date, a place and RSVPs."""
