"""Throughput and quality of the procedural generators, with a baseline measured in the same run.

For every skill, N items are generated (spread evenly over the skill's levels, seeds 0, 1, ...),
each is put through the independent check, and consecutive batches of 10 items at one level,
a simulated assignment, are searched for repeated stems. Printed per skill: generation rate,
generation-plus-check rate, wrong keys (items failing the check) and repeated stems.

Two baselines put the rates in proportion: building an `ItemContent` from a constant dict
(the floor any generator pays to hand back a validated item) and a loop of bare
`sympy.Rational` arithmetic (the cost of touching sympy at all).

    .venv/bin/python bench/bench_procedural.py            # 1,000 items per skill
    .venv/bin/python bench/bench_procedural.py 10000      # the full run
    .venv/bin/python bench/bench_procedural.py 200 --skills fractions.add,slope.two_points
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.registry import generate
from practicegen.generation.protocol import SkillSpec
from practicegen.items.schemas import ItemContent

BATCH = 10


@dataclass
class SkillResult:
    skill: str
    items: int = 0
    generate_s: float = 0.0
    check_s: float = 0.0
    wrong_keys: int = 0
    repeated_stems: int = 0
    batches: int = 0


def _seeds_per_level(spec: SkillSpec, n: int) -> list[tuple[int, int]]:
    """(level, count) pairs that add up to n, as even as possible."""
    base, extra = divmod(n, spec.levels)
    return [(level, base + (1 if level <= extra else 0)) for level in range(1, spec.levels + 1)]


def _repeats(stems: Sequence[str]) -> int:
    return len(stems) - len(set(stems))


def bench_skill(spec: SkillSpec, n: int) -> SkillResult:
    result = SkillResult(spec.skill)
    for level, count in _seeds_per_level(spec, n):
        started = time.perf_counter()
        items = [generate(spec.skill, level, seed) for seed in range(count)]
        result.generate_s += time.perf_counter() - started
        started = time.perf_counter()
        result.wrong_keys += sum(not check_item(item).ok for item in items)
        result.check_s += time.perf_counter() - started
        for start in range(0, count - BATCH + 1, BATCH):
            result.repeated_stems += _repeats([it.stem for it in items[start : start + BATCH]])
            result.batches += 1
        result.items += count
    return result


def baseline_item_rate(n: int) -> float:
    """Items per second for validating a constant dict into an ItemContent."""
    row = generate("fractions.add", 2, 0).model_dump(mode="json")
    started = time.perf_counter()
    for _ in range(n):
        ItemContent.model_validate(row)
    return n / (time.perf_counter() - started)


def baseline_rational_rate(n: int) -> float:
    """Loop iterations per second of a few bare sympy.Rational operations."""
    started = time.perf_counter()
    total = sympy.Rational(0)
    for i in range(n):
        a, b = sympy.Rational(i % 7 + 1, 3), sympy.Rational(5, i % 11 + 2)
        total = (a + b) * a - b / a
    assert total is not None
    return n / (time.perf_counter() - started)


def _report(results: Sequence[SkillResult], item_rate: float, rational_rate: float) -> None:
    print(f"{'skill':34} {'items':>7} {'gen/s':>9} {'gen+check/s':>12} {'wrong':>6} {'repeats':>8}")
    for r in results:
        both = r.items / (r.generate_s + r.check_s)
        print(
            f"{r.skill:34} {r.items:7d} {r.items / r.generate_s:9.0f} {both:12.0f} "
            f"{r.wrong_keys:6d} {r.repeated_stems:4d}/{r.batches:<4d}"
        )
    items = sum(r.items for r in results)
    gen_s, check_s = sum(r.generate_s for r in results), sum(r.check_s for r in results)
    repeats, batches = sum(r.repeated_stems for r in results), sum(r.batches for r in results)
    print(
        f"\ntotal: {items} items; generation {items / gen_s:.0f} items/s ({gen_s:.1f} s), "
        f"check {items / check_s:.0f} items/s ({check_s:.1f} s); "
        f"wrong keys {sum(r.wrong_keys for r in results)}; "
        f"repeated stems {repeats} in {batches} batches of {BATCH} "
        f"({repeats / max(1, batches * BATCH):.2%} of batched items)"
    )
    print(
        f"baseline: ItemContent from a constant dict {item_rate:.0f} items/s "
        f"(generation is {item_rate / (items / gen_s):.1f}x slower); "
        f"bare sympy.Rational loop {rational_rate:.0f} iterations/s"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="items per skill")
    parser.add_argument("--skills", default="", help="comma-separated skill ids (default all)")
    args = parser.parse_args(argv)
    wanted = {s for s in args.skills.split(",") if s}
    specs = [spec for spec in GENERATOR_SKILLS if not wanted or spec.skill in wanted]
    item_rate, rational_rate = baseline_item_rate(5000), baseline_rational_rate(5000)
    results = []
    for spec in specs:
        results.append(bench_skill(spec, args.n))
        print(f"  {spec.skill}: done", flush=True)
    _report(results, item_rate, rational_rate)


if __name__ == "__main__":
    main()
