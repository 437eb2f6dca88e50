"""The target's response and the outcome of an action: a public timeline, emails to supporters."""
