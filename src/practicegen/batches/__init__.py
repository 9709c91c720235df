"""Batches: one practice job per student of a class (or list), followed as one."""
