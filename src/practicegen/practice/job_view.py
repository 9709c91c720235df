"""A practice generation job's result as a student token sees it.

The result is stored as a server sees the assignment (answer keys, solutions, the
misconception behind each distractor, and `metadata.generation`, which is about the service's
models and not the student's practice). A student sees what `GET /api/v1/assignments/{id}`
shows a student (`practice/service.py` `_item_view` without keys): the same fields, the keys
null, whoever started the job.
"""

from __future__ import annotations

from typing import Any


def _item_for_student(item: dict[str, Any]) -> dict[str, Any]:
    answered = item.get("response") is not None
    return {
        **item,
        "answer": None,
        "solution": item.get("solution") if answered else None,
        "choices": [{**choice, "misconception": None} for choice in item.get("choices", [])],
    }


def for_student(result: dict[str, Any]) -> dict[str, Any]:
    """The stored result less the answer keys (a new dict; the stored one is left alone)."""
    shown = {key: value for key, value in result.items() if key != "metadata"}
    shown["items"] = [_item_for_student(item) for item in result.get("items", [])]
    return shown
