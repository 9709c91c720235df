"""Procedural generators: instant, deterministic items built from their solution, sympy-checked."""
