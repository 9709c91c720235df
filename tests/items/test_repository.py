"""The bank read a language model's prompt is made from: skills and examples in one query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.items.repository import ItemRepository
from practicegen.items.schemas import ItemContent
from practicegen.items.service import to_row
from tests.api.factories import item_body

START = datetime(2026, 1, 1, tzinfo=UTC)


async def _items(sessionmaker: SessionMaker, *rows: tuple[str, str, str, str, int]) -> None:
    """Items of Algebra: (topic, skill, source, status, minutes after START) each."""
    async with sessionmaker() as session, session.begin():
        for index, (topic, skill, source, status, minutes) in enumerate(rows):
            body = item_body(
                topic=topic, skill=skill, source=source, stem=f"Solve $x + {index} = 0$."
            )
            row = to_row(DEFAULT_TENANT_ID, ItemContent.model_validate(body))
            row.status, row.created_at = status, START + timedelta(minutes=minutes)
            session.add(row)


async def test_examples_of_the_topics_skills_and_the_asked_ones_in_one_read(
    sessionmaker: SessionMaker,
) -> None:
    await _items(
        sessionmaker,
        ("Lines", "a.one", "llm", "active", 1),
        ("Lines", "a.one", "bank", "active", 5),
        ("Lines", "a.one", "bank", "active", 3),
        ("Lines", "a.one", "bank", "active", 4),
        ("Lines", "a.two", "bank", "retired", 1),  # named, but no example
        ("Other", "a.three", "bank", "active", 2),  # another topic: only if asked
        ("Other", "a.four", "bank", "active", 2),
    )
    async with autocommit_sessionmaker(sessionmaker)() as session:
        repo = ItemRepository(session)
        found = await repo.examples(
            DEFAULT_TENANT_ID, subject="Algebra", skills=["a.three"], limit=3, named_in=("Lines",)
        )
        asked = await repo.examples(
            DEFAULT_TENANT_ID, subject="Algebra", skills=["a.four"], limit=2
        )
        everything = await repo.examples(
            DEFAULT_TENANT_ID, subject="Algebra", skills=[], limit=1, named_in=(None,)
        )
    assert found.skills == {"a.one", "a.two"}
    assert set(found.examples) == {"a.one", "a.three"}
    # the bank's own first, oldest first; at most `limit`
    shown = [(row.source, row.stem) for row in found.examples["a.one"]]
    assert shown == [("bank", f"Solve $x + {index} = 0$.") for index in (2, 3, 1)]
    content = ItemContent.model_validate(found.examples["a.three"][0], from_attributes=True)
    assert (content.topic, content.skill, content.hints) == (
        "Other",
        "a.three",
        item_body()["hints"],
    )
    assert (asked.skills, list(asked.examples), len(asked.examples["a.four"])) == (
        set(),
        ["a.four"],
        1,
    )
    assert everything.skills == {"a.one", "a.two", "a.three", "a.four"}
    assert {skill: len(rows) for skill, rows in everything.examples.items()} == {
        "a.one": 1,
        "a.three": 1,
        "a.four": 1,
    }
