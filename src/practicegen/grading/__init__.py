"""Grading: reading untrusted answers and keys and judging them under an item's answer policy."""
