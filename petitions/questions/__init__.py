"""Custom questions on an action's form: organiser-defined, answers stored per signature."""
