"""Campaign update mailings, milestones and unsubscribing."""
