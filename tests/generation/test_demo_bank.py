"""The demo bank file that ships in the package: current with its builder, the right coverage,
and every item passing the independent check and the import's validation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import practicegen.items
from practicegen.bootstrap import demo_bank_document
from practicegen.generation.demo_bank import build_demo_items, main, render_demo_bank
from practicegen.generation.procedural.checks import check_item
from practicegen.items.bank_format import parse_bank
from practicegen.items.fingerprint import fingerprint
from practicegen.items.schemas import ItemContent, ItemSource

BANK = Path(practicegen.items.__file__).parent / "demo_bank.json"


@pytest.fixture(scope="module")
def built() -> list[ItemContent]:
    return build_demo_items()


@pytest.fixture(scope="module")
def items() -> list[ItemContent]:
    parsed = parse_bank(json.loads(BANK.read_text("utf-8")))
    assert parsed.rejected == []
    return [item for _, item in parsed.items]


def test_the_file_is_what_the_builder_makes_now(built: list[ItemContent]) -> None:
    assert BANK.read_text("utf-8") == render_demo_bank(built), (
        "demo_bank.json is stale: run "
        "python -m practicegen.generation.demo_bank src/practicegen/items/demo_bank.json"
    )


def test_the_packaged_bank_is_the_file(built: list[ItemContent]) -> None:
    document: Any = demo_bank_document()
    assert document["format"] == "practicegen-bank" and document["version"] == 1
    assert document["items"] == [item.model_dump(mode="json") for item in built]


def test_coverage_and_size(items: list[ItemContent]) -> None:
    assert 400 <= len(items) <= 700
    assert BANK.stat().st_size < 1_500_000
    topics = Counter((item.subject, item.topic) for item in items)
    algebra = {topic for subject, topic in topics if subject == "Algebra"}
    assert "Linear Equations" in algebra and len(algebra) >= 3
    assert topics[("Algebra", "Linear Equations")] >= 60
    assert {subject for subject, _ in topics} == {"Algebra", "Arithmetic", "Geometry"}
    levels: dict[str, set[float]] = {}
    for item in items:
        levels.setdefault(item.skill, set()).add(item.difficulty)
    assert all(len(difficulties) >= 3 for difficulties in levels.values())


def test_every_item_is_a_checked_distinct_demo_item(items: list[ItemContent]) -> None:
    assert all(item.source is ItemSource.DEMO for item in items)
    assert len({fingerprint(item) for item in items}) == len(items)
    for item in items:
        report = check_item(item)
        assert report.ok, (item.skill, item.provenance.get("seed"), report.problems)


def test_the_entry_point_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "bank.json"
    assert main([str(target)]) == 0
    assert target.read_text("utf-8") == BANK.read_text("utf-8")
    assert main([]) == 2
