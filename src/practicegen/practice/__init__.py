"""Practice: the learner model and the choice of what a student works on next."""
