"""Students: the people practice is assigned to."""
