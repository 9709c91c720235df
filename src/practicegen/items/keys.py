"""Answer keys checked at the door, as the grader will read them, in the node's sympy processes
under a deadline: an item whose key cannot be read is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NewType

from practicegen.errors import InvalidRequest
from practicegen.grading.grades import AnswerKey, InvalidKey
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.schemas import ItemContent

BATCH = 200  # keys per process call: reading one takes well under a millisecond
TIMED_OUT = "the key took too long to read"

ReadableItem = NewType("ReadableItem", ItemContent)  # only `KeyReader.readable` makes one


class UnreadableKey(InvalidRequest):
    code = "unreadable_answer_key"
    default_message = "The item's answer key cannot be read under its type and answer policy."


def key_of(content: ItemContent) -> AnswerKey:
    return AnswerKey(
        type=content.type,
        answer=content.answer,
        policy=content.answer_policy,
        tolerance=content.tolerance,
        choice_ids=tuple(c.id for c in content.choices),
    )


def key_problems(keys: Sequence[AnswerKey]) -> list[str | None]:
    """In a pool process: for each key, why the grader cannot read it, or None."""
    return [_problem(key) for key in keys]


def _problem(key: AnswerKey) -> str | None:
    # sympy work: imported in the pool process (its fork server preloads it), never on the loop
    from practicegen.grading.grade import read_key

    try:
        read_key(key)
    except InvalidKey as exc:
        return str(exc)
    except Exception as exc:  # sympy failing on a strange key: the key is at fault
        return f"cannot read the key {key.answer!r}: {type(exc).__name__}"
    return None


class KeyReader:
    """Reads answer keys in `pool`, each call within `timeout_s`."""

    def __init__(self, pool: SympyPool, *, timeout_s: float) -> None:
        self.pool = pool
        self.timeout_s = timeout_s

    async def problems(self, contents: Sequence[ItemContent]) -> list[str | None]:
        """For each item, why its key cannot be read, or None when it can."""
        keys = [key_of(c) for c in contents]
        found: list[str | None] = []
        for start in range(0, len(keys), BATCH):
            found += await self._batch(keys[start : start + BATCH])
        return found

    async def _batch(self, keys: list[AnswerKey]) -> list[str | None]:
        try:
            return await self.pool.run(key_problems, keys, timeout_s=self.timeout_s)
        except TimeoutError:
            if len(keys) == 1:
                return [TIMED_OUT]
        return [(await self._batch([key]))[0] for key in keys]

    async def readable(self, content: ItemContent) -> ReadableItem:
        """`content`, once its key is read; else `UnreadableKey` (a 422 naming `answer`)."""
        (problem,) = await self.problems([content])
        if problem is not None:
            raise UnreadableKey(
                f"The answer key cannot be read: {problem}.",
                field="answer",
                errors=[{"field": "answer", "location": "body", "message": problem}],
            )
        return ReadableItem(content)
