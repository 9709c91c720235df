"""Subject and topic names matched without regard to case: a name a request gives is replaced by
the spelling already known for it (the generators', then the tenant's bank's in sorted order),
so the bank never gains a second spelling; a name known to neither is kept as given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.items.repository import ItemRepository


class Spellings:
    """Known spellings of subjects and their topics; the first added ignoring case is canonical."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._subjects: dict[str, str] = {}  # folded -> canonical
        self._exact_subjects: set[str] = set()
        self._topics: dict[tuple[str, str], str] = {}  # (canonical subject, folded) -> canonical
        self._exact_pairs: set[tuple[str, str]] = set()
        self.add_all(pairs)

    def add_all(self, pairs: Iterable[tuple[str, str]]) -> None:
        for subject, topic in pairs:
            self.add(subject, topic)

    def add(self, subject: str, topic: str) -> None:
        self._subjects.setdefault(subject.casefold(), subject)
        self._exact_subjects.add(subject)
        self._topics.setdefault((self.subject(subject), topic.casefold()), topic)
        self._exact_pairs.add((subject, topic))

    def copy(self) -> Spellings:
        """A copy to add to (its names are strings, so shallow copies of its maps do)."""
        copied = Spellings()
        copied._subjects, copied._exact_subjects = dict(self._subjects), set(self._exact_subjects)
        copied._topics, copied._exact_pairs = dict(self._topics), set(self._exact_pairs)
        return copied

    def knows(self, subject: str, topic: str | None) -> bool:
        """Whether both names are spelled exactly as known."""
        if topic is None:
            return subject in self._exact_subjects
        return (subject, topic) in self._exact_pairs

    def subject(self, given: str) -> str:
        if given in self._exact_subjects:
            return given
        return self._subjects.get(given.casefold(), given)

    def topic(self, subject: str, given: str) -> str:
        """`given`'s spelling among the topics of `subject` (a canonical subject name)."""
        if (subject, given) in self._exact_pairs:
            return given
        return self._topics.get((subject, given.casefold()), given)

    def names(self, subject: str, topic: str | None) -> tuple[str, str | None]:
        canonical = self.subject(subject)
        return canonical, None if topic is None else self.topic(canonical, topic)


async def bank_spellings(
    session: AsyncSession, tenant_id: uuid.UUID, known: Spellings
) -> Spellings:
    """`known` and then every spelling in the tenant's bank, sorted (a new object)."""
    spellings = known.copy()
    spellings.add_all(sorted(await ItemRepository(session).spellings(tenant_id)))
    return spellings


async def canonical_names(
    session: AsyncSession, tenant_id: uuid.UUID, subject: str, topic: str | None, known: Spellings
) -> tuple[str, str | None]:
    """The canonical spellings of a request's subject and topic (see the module's docstring)."""
    if known.knows(subject, topic):
        return subject, topic
    if await ItemRepository(session).has_names(tenant_id, subject, topic):
        return subject, topic
    return (await bank_spellings(session, tenant_id, known)).names(subject, topic)
