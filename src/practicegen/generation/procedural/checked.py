"""What a sympy process runs to make one procedural item: build it, then check it independently.

A module of its own so that the node's loop can name the function without importing sympy, and
a pool process can unpickle it without importing the database's modules.
"""

from __future__ import annotations

from typing import Any


def build_checked(skill: str, level: int, seed: int) -> tuple[dict[str, Any], list[str]]:
    """The item built for `skill`, `level` and `seed`, as JSON, and its check's problems."""
    # sympy work: imported in the pool process (its fork server preloads it), never on the loop
    from practicegen.generation.procedural.checks import check_item
    from practicegen.generation.procedural.registry import generate

    item = generate(skill, level, seed)
    return item.model_dump(mode="json"), list(check_item(item).problems)
