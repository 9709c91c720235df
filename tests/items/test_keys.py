"""Answer keys read at the door as the grader reads them: the demo bank's, every procedural
skill's, and a mixed batch read in the node's sympy processes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import practicegen.items
from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.generation.procedural.registry import generate
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.bank_format import parse_bank
from practicegen.items.keys import TIMED_OUT, KeyReader, key_of, key_problems
from practicegen.items.schemas import ItemContent
from practicegen.items.service import to_row
from practicegen.practice.service import answer_key
from tests.api.factories import choice_item_body, item_body

BANK = Path(practicegen.items.__file__).parent / "demo_bank.json"
SEEDS = range(6)


def test_every_demo_bank_key_is_readable() -> None:
    parsed = parse_bank(json.loads(BANK.read_text("utf-8")))
    items = [item for _, item in parsed.items]
    assert len(items) > 400
    problems = key_problems([key_of(item) for item in items])
    assert [(i.skill, i.answer, p) for i, p in zip(items, problems, strict=True) if p] == []


def test_every_procedural_skill_makes_readable_keys() -> None:
    made = [
        generate(spec.skill, level, seed)
        for spec in GENERATOR_SKILLS
        for level in range(1, spec.levels + 1)
        for seed in SEEDS
    ]
    assert {item.skill for item in made} == {spec.skill for spec in GENERATOR_SKILLS}
    problems = key_problems([key_of(item) for item in made])
    assert [(i.skill, i.answer, p) for i, p in zip(made, problems, strict=True) if p] == []


@pytest.fixture
async def reader() -> AsyncIterator[KeyReader]:
    pool = SympyPool(1)
    try:
        yield KeyReader(pool, timeout_s=30.0)
    finally:
        await pool.aclose()


async def test_the_reader_names_each_unreadable_key(reader: KeyReader) -> None:
    bodies = [
        item_body(),
        item_body(type="numeric", stem="?", answer="four", answer_policy="equivalent"),
        item_body(type="expression", stem="?", answer="x > 3", answer_policy="equivalent"),
        item_body(type="numeric", stem="?", answer="2x", answer_policy="exact_form"),
        item_body(type="numeric", stem="?", answer="3/4", answer_policy="exact_form"),
        item_body(answer="x < 3 or x > 5"),
        choice_item_body(),
    ]
    problems = await reader.problems([ItemContent.model_validate(b) for b in bodies])
    assert problems[0] is None and problems[4:] == [None, None, None]
    assert problems[1] is not None and "'four'" in problems[1]
    assert problems[2] is not None and "'x > 3'" in problems[2]
    assert problems[3] is not None and "a number is asked for" in problems[3]


async def test_many_keys_are_read_in_batches(reader: KeyReader) -> None:
    bodies = [item_body(stem=f"Solve $x = {n}$.", answer=f"x = {n}") for n in range(450)]
    bodies[321]["answer"] = "x = = 1"
    problems = await reader.problems([ItemContent.model_validate(b) for b in bodies])
    assert [n for n, p in enumerate(problems) if p is not None] == [321]


async def test_a_key_past_the_deadline_is_refused_not_waited_for() -> None:
    pool = SympyPool(1)
    try:
        await pool.start()
        hurried = KeyReader(pool, timeout_s=0.000001)
        bodies = [item_body(), item_body(stem="Solve $x = 2$.", answer="x = 2")]
        problems = await hurried.problems([ItemContent.model_validate(b) for b in bodies])
    finally:
        await pool.aclose()
    assert problems == [TIMED_OUT, TIMED_OUT]


def test_the_door_reads_the_same_key_the_grader_is_given() -> None:
    for body in (
        item_body(),
        choice_item_body(),
        item_body(
            type="numeric",
            answer="0.5",
            answer_policy="numeric_tolerance",
            tolerance=0.01,
            stem="Half?",
        ),
    ):
        content = ItemContent.model_validate(body)
        assert key_of(content) == answer_key(to_row(DEFAULT_TENANT_ID, content))
