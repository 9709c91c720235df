"""Does a question a student reads agree with its key, when the model attacks? And at what cost?

N drafts are written by the adversarial test model (`tests/support/fake_llm.question`, the
same code the test server answers with, called directly: no HTTP), for the linear-equation
skills, a mix of honest drafts (an equation in LaTeX, bare text, a word problem) and every
attack of its table (wrong keys and steps, stems that are not the problem, off-skill
questions). Each draft is checked twice: by the verifier (`llm_check.verify_item`) and by a
baseline measured in the same run, the verifier as it was before stems and skills were
checked (the key, steps and distractors solved again, then the general item check).

The truth is the model server's own: it records the solution of every stem it wrote honestly.
An accepted item "disagrees" when its stem is not one of those, or its key is not that
solution. Printed: accepted items that disagree (the aim: none), the acceptance rate of
honest drafts (the aim: above 95%), off-skill items accepted, and the check's time per draft
against the baseline's.

    .venv/bin/python -m bench.adversarial_generation            # 1,000 drafts
    .venv/bin/python -m bench.adversarial_generation 5000 --attack-share 0.5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.fake_llm import ATTACKS, HONEST, Mode, question

from practicegen.generation.llm_check import verify_equation
from practicegen.generation.llm_check import verify_item as verify_now
from practicegen.generation.llm_kind import EquationKind
from practicegen.generation.llm_verify import ACCEPTED, Reason, Verdict
from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.checks import check_item
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.schemas import ItemContent

SKILLS = (
    "linear_equations.one_step",
    "linear_equations.two_step",
    "linear_equations.both_sides",
    "linear_equations.distribution",
    "linear_equations.fractions",
)
ATTACK_MODES = tuple(m for m in ATTACKS if m not in HONEST and m is not Mode.HEAVY_CHECK)


def verify_before(item: ItemContent) -> Verdict:
    """The verifier before stems and skills were checked: the baseline."""
    prov = item.provenance
    distractors = [str(d["value"]) for d in prov.get("distractors", [])]
    steps = [str(s) for s in prov.get("steps", [])]
    verdict = verify_equation(str(prov["problem"]), item.answer, steps, distractors)
    if not verdict.ok:
        return verdict
    report = check_item(item)
    return ACCEPTED if report.ok else Verdict(Reason.FAILED_ITEM_CHECK)


@dataclass
class Tally:
    name: str
    accepted: int = 0
    disagreeing: int = 0
    honest: int = 0
    honest_accepted: int = 0
    off_skill_accepted: int = 0
    seconds: list[float] = field(default_factory=list)

    def count(
        self, verdict: Verdict, mode: Mode, item: ItemContent, truths: dict[str, str]
    ) -> None:
        self.honest += mode in HONEST
        if not verdict.ok:
            return
        self.accepted += 1
        self.honest_accepted += mode in HONEST
        self.off_skill_accepted += mode is Mode.OFF_SKILL
        self.disagreeing += truths.get(item.stem) != item.answer


def drafts(n: int, attack_share: float, seed: int) -> list[tuple[Mode, ItemContent, str]]:
    rng = random.Random(seed)
    kind = EquationKind(verify_timeout_s=5.0, pool=SympyPool(workers=1))  # reads drafts only
    made = []
    for index in range(n):
        skill = SKILLS[index % len(SKILLS)]
        attacking = rng.random() < attack_share
        mode = rng.choice(ATTACK_MODES if attacking else HONEST)
        truths: dict[str, str] = {}
        reply = json.loads(question(skill, mode, rng, truths))
        item = kind.item(reply, subject="Algebra", topic="Linear", skill=skill, difficulty=0)
        made.append((mode, item, truths.get(item.stem, "")))
    return made


def run(
    name: str, check: Callable[[ItemContent], Verdict], batch: list[tuple[Mode, ItemContent, str]]
) -> Tally:
    tally = Tally(name)
    mp.solve_equation.cache_clear()  # each run solves from scratch
    mp.solution_set.cache_clear()
    mp.expr.cache_clear()
    for mode, item, truth in batch:
        started = time.perf_counter()
        verdict = check(item)
        tally.seconds.append(time.perf_counter() - started)
        tally.count(verdict, mode, item, {item.stem: truth} if truth else {})
    return tally


def report(tally: Tally, n: int) -> None:
    honest_rate = tally.honest_accepted / max(tally.honest, 1)
    print(
        f"{tally.name:>9}: accepted {tally.accepted}/{n}; disagreeing with their key "
        f"{tally.disagreeing} ({tally.disagreeing / max(tally.accepted, 1):.1%}); honest "
        f"accepted {tally.honest_accepted}/{tally.honest} ({honest_rate:.1%}); off-skill "
        f"accepted {tally.off_skill_accepted}; check p50 "
        f"{statistics.median(tally.seconds) * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=1000)
    parser.add_argument("--attack-share", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    batch = drafts(args.n, args.attack_share, args.seed)
    before = run("baseline", verify_before, batch)
    now = run("verifier", verify_now, batch)
    for tally in (before, now):
        report(tally, args.n)
    ratio = sum(now.seconds) / sum(before.seconds)
    print(f"check time, verifier / baseline: {ratio:.2f}x")


if __name__ == "__main__":
    main()
