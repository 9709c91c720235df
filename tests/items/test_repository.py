"""The bank reads a language model's prompt is made from: a topic's skills, a skill's examples."""

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


async def test_the_skills_a_topic_names_and_a_skills_examples(
    sessionmaker: SessionMaker,
) -> None:
    await _items(
        sessionmaker,
        ("Lines", "a.one", "llm", "active", 1),
        ("Lines", "a.one", "bank", "active", 5),
        ("Lines", "a.one", "bank", "active", 3),
        ("Lines", "a.one", "bank", "active", 4),
        ("Lines", "a.two", "bank", "retired", 1),  # named, but no example
        ("Other", "a.three", "bank", "active", 2),
    )
    async with autocommit_sessionmaker(sessionmaker)() as session:
        repo = ItemRepository(session)
        in_topic = await repo.skills(DEFAULT_TENANT_ID, "Algebra", "Lines")
        in_subject = await repo.skills(DEFAULT_TENANT_ID, "Algebra", None)
        shown = await repo.examples(DEFAULT_TENANT_ID, subject="Algebra", skill="a.one", limit=3)
        retired = await repo.examples(DEFAULT_TENANT_ID, subject="Algebra", skill="a.two", limit=3)
        other = await repo.examples(DEFAULT_TENANT_ID, subject="Algebra", skill="a.three", limit=1)
    assert (in_topic, in_subject) == ({"a.one", "a.two"}, {"a.one", "a.two", "a.three"})
    # the bank's own first, oldest first; at most `limit`
    assert [(r.source, r.stem) for r in shown] == [
        ("bank", f"Solve $x + {index} = 0$.") for index in (2, 3, 1)
    ]
    assert retired == []
    content = ItemContent.model_validate(other[0], from_attributes=True)
    assert (content.topic, content.skill, content.hints) == (
        "Other",
        "a.three",
        ["Subtract 3 from both sides."],
    )
