"""What a running node holds, built once by the lifespan and reached by one dependency; each
domain's parts are looked up by class with `part`, as the edge kit knows no domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict, TypeVar, cast

from practicegen.clock import Clock
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    sessionmaker: SessionMaker
    reading_sessionmaker: SessionMaker  # for a single read: each statement commits by itself
    clock: Clock
    parts: Mapping[type, object] = field(default_factory=dict)  # made by `parts_of`

    def part(self, kind: type[T]) -> T:
        """The node's part of class `kind` (a `KeyError` if the lifespan built none)."""
        return cast(T, self.parts[kind])


def parts_of(*parts: object) -> dict[type, object]:
    """The `parts` mapping for `Container`: each object under its own class."""
    return {type(part): part for part in parts}


class NodeState(TypedDict):
    """The lifespan's state, copied by the server into every request's `state`."""

    container: Container
