"""Matching subject and topic names ignoring case (`items.names`): the rules of `Spellings`,
and what finding a request's spelling costs on each backend."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.catalog.generators import generator_spellings
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.items.names import Spellings, canonical_names
from practicegen.items.service import import_bank
from tests.api.factories import item_body


def test_an_exact_spelling_wins_then_the_first_known_ignoring_case() -> None:
    spellings = Spellings([("Algebra", "Linear Equations")])
    spellings.add_all([("algebra", "Word Problems"), ("Chemistry", "Moles")])
    assert spellings.names("ALGEBRA", "linear EQUATIONS") == ("Algebra", "Linear Equations")
    assert spellings.names("algebra", None) == ("algebra", None)  # spelled so in the bank
    assert spellings.names("chemistry", "moles") == ("Chemistry", "Moles")
    assert spellings.names("Alchemy", "Gold") == ("Alchemy", "Gold")  # new: kept as given
    assert spellings.names("Straße", "x") == ("Straße", "x")
    assert Spellings([("STRASSE", "A")]).names("straße", "a") == ("STRASSE", "A")  # casefold
    assert spellings.knows("Algebra", "Linear Equations")
    assert not spellings.knows("Algebra", "linear equations")


def test_a_copy_learns_alone() -> None:
    known = generator_spellings()
    twin = known.copy()
    twin.add("Chemistry", "Moles")
    assert twin.names("chemistry", None) == ("Chemistry", None)
    assert known.names("chemistry", None) == ("chemistry", None)


@pytest.fixture
async def recorded(settings: Settings) -> AsyncIterator[tuple[SessionMaker, list[str]]]:
    engine = create_engine(settings)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    try:
        yield create_sessionmaker(engine), statements
    finally:
        await engine.dispose()


async def test_a_known_spelling_costs_no_statement_or_one_probe(
    recorded: tuple[SessionMaker, list[str]],
) -> None:
    sessionmaker, statements = recorded
    rows = [item_body(subject="Chemistry", topic="Moles", skill="moles.convert", answer="1")]
    async with sessionmaker() as session, session.begin():
        await import_bank(
            session,
            tenant_id=DEFAULT_TENANT_ID,
            document={"format": "practicegen-bank", "version": 1, "items": rows},
        )
    known = generator_spellings()

    async def names(subject: str, topic: str | None) -> tuple[tuple[str, str | None], int]:
        statements.clear()
        async with sessionmaker() as session:
            found = await canonical_names(session, DEFAULT_TENANT_ID, subject, topic, known)
        return found, len(statements)

    assert await names("Algebra", "Linear Equations") == (("Algebra", "Linear Equations"), 0)
    assert await names("Chemistry", "Moles") == (("Chemistry", "Moles"), 1)
    assert await names("chemistry", "MOLES") == (("Chemistry", "Moles"), 2)
    assert await names("algebra", "slope") == (("Algebra", "Slope"), 2)
    assert await names("Alchemy", None) == (("Alchemy", None), 2)


def test_the_generator_processes_import_no_web_stack() -> None:
    """The fork server preloads the generators' modules, which use `items.names`: were the web
    stack imported with them, every pool's first start would import it too."""
    code = (
        "import importlib, sys; from practicegen.grading.sympy_pool import RUNS; "
        "[importlib.import_module(module) for module in RUNS]; "
        "print(sorted({'fastapi', 'starlette', 'practicegen.api.deps'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
