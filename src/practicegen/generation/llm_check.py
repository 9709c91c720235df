"""The check of an equation question a language model wrote: its `problem` is solved again
through the safe parser `procedural.mathparse` (model output is never evaluated as Python) and
the key, steps, distractors, skill profile and stem are held to it. It solves with sympy, so it
runs in a node's sympy processes (`llm_verify.verify_within`), never on its event loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy

from practicegen.generation.llm_verify import ACCEPTED, Reason, Verdict
from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.profile_fit import misfit
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.generation.stem import stem_mismatch
from practicegen.items.schemas import ItemContent


def verify_equation(
    problem: str, answer: str, steps: Sequence[str], distractors: Sequence[str]
) -> Verdict:
    """Solve `problem` independently and hold the claimed answer, steps and distractors to it."""
    try:
        names = set(re.findall(r"\b[a-z]\b", problem)) & set(mp.VARIABLES)
        if len(names) != 1:
            raise mp.Unreadable(f"expected one unknown in {problem!r}, found {sorted(names)}")
        var = mp.VARIABLES[names.pop()]
        truth = mp.solve_equation(problem, var)
        if not (isinstance(truth, sympy.FiniteSet) and len(truth) == 1):
            return Verdict(Reason.NOT_UNIQUE, f"{problem!r} has solution set {truth}")
        if mp.solution_set(answer, var) != truth:
            return Verdict(Reason.WRONG_ANSWER, f"{answer!r} does not solve {problem!r}")
        for index, step in enumerate(steps, start=1):
            if mp.solve_equation(step, var) != truth:
                return Verdict(Reason.STEP_BREAKS_SOLUTION_SET, f"step {index} {step!r}")
        for value in distractors:
            if mp.solution_set(value, var) == truth:
                return Verdict(Reason.DISTRACTOR_EQUALS_KEY, f"distractor {value!r}")
    except mp.MATH_FAILURES as exc:
        return Verdict(Reason.MALFORMED, f"unreadable: {exc}")
    return ACCEPTED


def verify_item(item: ItemContent) -> Verdict:
    """The full check of an equation item built from a model's draft (CPU-bound: sympy)."""
    prov = item.provenance
    distractors = [str(d["value"]) for d in prov.get("distractors", [])]
    steps = [str(s) for s in prov.get("steps", [])]
    problem, kind = str(prov.get("problem", "")), str(prov.get("kind", "equation"))
    verdict = verify_equation(problem, item.answer, steps, distractors)
    if not verdict.ok:
        return verdict
    profile = PROFILES.get(item.skill)  # a skill only the bank knows has no declared profile
    off_skill = misfit(profile, kind, problem) if profile else None
    if off_skill is not None:
        return Verdict(Reason.OFF_SKILL, f"{item.skill}: {off_skill}")
    if (mismatch := stem_mismatch(item.stem, problem, kind)) is not None:
        return Verdict(Reason.STEM_MISMATCH, mismatch)
    report = check_item(item)
    if not report.ok:
        return Verdict(Reason.FAILED_ITEM_CHECK, "; ".join(report.problems))
    return ACCEPTED
