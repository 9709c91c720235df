"""Procedural generators: instant, deterministic items built from their solution with sympy checks.

`ProceduralGenerator` (see `registry`) implements the generation protocol for every skill listed
in `catalog`; `check_item` (see `checks`) verifies a built item independently of its builder.
"""
