"""The demo bank a fresh install loads, built from the procedural generators.

`practicegen/items/demo_bank.json` is generated, never edited: a test fails if it differs from
what this module builds now.

    python -m practicegen.generation.demo_bank src/practicegen/items/demo_bank.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from practicegen.generation.procedural.catalog import SKILL_DEFS
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.registry import generate
from practicegen.items.bank_format import bank_document
from practicegen.items.fingerprint import fingerprint
from practicegen.items.schemas import ItemContent, ItemSource

PER_LEVEL = 4
PER_LEVEL_BY_TOPIC = {"Linear Equations": 5}
MAX_SEEDS_PER_LEVEL = 200


class DemoBankError(RuntimeError):
    """A generated demo item failed its check, or a level ran out of distinct questions."""


def _items_for_level(skill: str, level: int, count: int, seen: set[str]) -> list[ItemContent]:
    items: list[ItemContent] = []
    for seed in range(MAX_SEEDS_PER_LEVEL):
        item = generate(skill, level, seed)
        key = fingerprint(item)
        if key in seen:
            continue
        report = check_item(item)
        if not report.ok:
            raise DemoBankError(f"{skill} level {level} seed {seed}: {list(report.problems)}")
        seen.add(key)
        items.append(item.model_copy(update={"source": ItemSource.DEMO}))
        if len(items) == count:
            return items
    raise DemoBankError(f"{skill} level {level}: fewer than {count} distinct questions")


def build_demo_items() -> list[ItemContent]:
    """Every skill at every level, a few distinct checked items each, in a fixed order."""
    items: list[ItemContent] = []
    seen: set[str] = set()
    for spec in (definition.spec for definition in SKILL_DEFS):
        count = PER_LEVEL_BY_TOPIC.get(spec.topic, PER_LEVEL)
        for level in range(1, spec.levels + 1):
            items += _items_for_level(spec.skill, level, count, seen)
    return items


def render_demo_bank(items: Sequence[ItemContent]) -> str:
    """The exact text of the demo bank file: one item per line, keys in schema order."""
    document = bank_document(list(items))
    lines = [json.dumps(item, ensure_ascii=False) for item in document.pop("items")]
    head = json.dumps(document, ensure_ascii=False)[:-1]
    return head + ', "items": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m practicegen.generation.demo_bank OUTPUT\n")
        return 2
    items = build_demo_items()
    text = render_demo_bank(items)
    Path(argv[0]).write_text(text, encoding="utf-8")
    size = len(text.encode()) / 1e6
    sys.stdout.write(f"wrote {len(items)} items ({size:.2f} MB) to {argv[0]}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
