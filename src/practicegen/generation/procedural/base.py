"""The `Draft` every skill builder returns: the text beside the machine-readable problem and
steps, so `checks` can re-derive the key without trusting the builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from random import Random

from practicegen.generation.protocol import SkillSpec
from practicegen.ports import AnswerPolicy, ItemType


class CheckKind(StrEnum):
    """How `checks` reads the problem, the steps and the key."""

    EQUATION = "equation"  # one variable; "2*x + 3 = 11", key "x = 4" / "x = 2 or x = -3"
    INEQUALITY = "inequality"  # one variable; "2*x + 3 > 11", key "x > 4"
    SYSTEM = "system"  # "2*x + y = 5; x - y = 1", key "x = 2, y = 1"
    EXPRESSION = "expression"  # "3*x + 2*x", key "5*x" (equal as expressions)
    VALUE = "value"  # "3/4 + 1/6" or "slope(1, 2, 3, 8)", key "11/12"
    LINE_SLOPE = "line_slope"  # a line "2*x + 3*y = 6", key its slope "-2/3"


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a worked solution: what is done, and the result in LaTeX and plain form."""

    text: str
    latex: str
    plain: str


@dataclass(frozen=True, slots=True)
class Wrong:
    """A wrong answer a named misconception leads to (plain answer format and LaTeX)."""

    value: str
    latex: str
    misconception: str

    @classmethod
    def of(cls, answer: tuple[str, str], misconception: str) -> Wrong:
        """From an answer written (LaTeX, plain), as `render` writes it."""
        return cls(answer[1], answer[0], misconception)


@dataclass(frozen=True, slots=True)
class Draft:
    kind: CheckKind
    item_type: ItemType  # the free-response type; multiple-choice drafts become MULTIPLE_CHOICE
    policy: AnswerPolicy
    stem: str
    problem: str
    answer: str
    answer_latex: str
    steps: tuple[Step, ...]
    hints: tuple[str, ...]
    wrongs: tuple[Wrong, ...] = ()
    multiple_choice: bool = False
    tolerance: float | None = None


Builder = Callable[[Random, int], Draft]


@dataclass(frozen=True, slots=True)
class SkillDef:
    """A skill, the function that builds its problems (`module.function` in this package, loaded
    only where items are built) and the Rasch difficulty of each level (index 0 is level 1)."""

    spec: SkillSpec
    builder: str
    difficulty: tuple[float, ...]
