"""Classes: a teacher's named groups of students, assigned and reported on together."""
