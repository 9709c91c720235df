"""A tenant's own settings: what it requires of the questions generated for it."""
