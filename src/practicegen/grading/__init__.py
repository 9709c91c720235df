"""Grading: reading untrusted answers and keys and judging them under an item's answer policy.

Math of answers only, below the bank and the practice: the bank reads an item's key with it
when the item is written, and practice grades responses with it, through `Grader`'s processes.
"""
