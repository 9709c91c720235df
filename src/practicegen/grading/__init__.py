"""Grading: reading untrusted answers and keys and judging them under an item's answer policy.

Math of answers only, below the bank (which reads keys with it) and practice (which grades).
"""
