"""Plain functions that make valid request bodies for tests."""

from __future__ import annotations

from typing import Any


def item_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Algebra",
        "topic": "Linear Equations",
        "skill": "linear_equations.two_step",
        "type": "equation",
        "stem": "Solve $2x + 3 = 11$.",
        "answer": "x = 4",
        "answer_policy": "solution_set",
        "hints": ["Subtract 3 from both sides."],
        "solution": "$2x = 8$, so $x = 4$.",
        "difficulty": -0.5,
    }
    body.update(overrides)
    return body


def choice_item_body(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        type="multiple_choice",
        answer="B",
        answer_policy="choice",
        stem="What is $3 + 4 \\times 2$?",
        skill="order_of_operations.basic",
        topic="Order of Operations",
        subject="Arithmetic",
        choices=[
            {"id": "A", "text": "14", "misconception": "left_to_right"},
            {"id": "B", "text": "11"},
            {"id": "C", "text": "10", "misconception": "added_instead_of_multiplied"},
        ],
    )
    return item_body(**(fields | overrides))
