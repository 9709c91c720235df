"""The stem a student reads is the verified problem, and a problem fits its skill.

Properties: for every procedural skill and level (arbitrary seeds), the stem's math parsed
back is the item's problem and the problem fits the skill's declared profile; for every
draft the adversarial model server writes, an honest one is accepted by the whole verifier
with a stem equal to its problem, and each attack is refused under its own reason. Then the
reader of stem math (whitelisted: model text is never evaluated) and the faults it catches.
"""

from __future__ import annotations

import contextlib
import json
import random
import time

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.generation import llm_check
from practicegen.generation.llm_check import verify_item
from practicegen.generation.llm_kind import EquationKind
from practicegen.generation.llm_verify import Reason, verify_within
from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.profile_fit import misfit
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.generation.procedural.registry import generate
from practicegen.generation.stem import stem_mismatch
from practicegen.generation.stem_latex import UnreadableMath, plain
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.schemas import ItemContent
from tests.support.fake_llm import ATTACKS, HONEST, Mode, question

LEVELS = [(s.skill, level) for s in GENERATOR_SKILLS for level in range(1, s.levels + 1)]
LINEAR = [s.skill for s in GENERATOR_SKILLS if s.skill.startswith("linear_equations.")]
SEEDS = st.integers(min_value=0, max_value=2**32)
EXPECTED: dict[Mode, Reason] = {
    Mode.WRONG: Reason.WRONG_ANSWER,
    Mode.BAD_STEP: Reason.STEP_BREAKS_SOLUTION_SET,
    Mode.DISTRACTOR_IS_KEY: Reason.DISTRACTOR_EQUALS_KEY,
    Mode.NOT_UNIQUE: Reason.NOT_UNIQUE,
    Mode.STEM_SIGN: Reason.STEM_MISMATCH,
    Mode.STEM_NUMBER: Reason.STEM_MISMATCH,
    Mode.STEM_VARIABLE: Reason.STEM_MISMATCH,
    Mode.STEM_OPERATION: Reason.STEM_MISMATCH,
    Mode.STEM_BARE_SIGN: Reason.STEM_MISMATCH,
    Mode.WORDS_NUMBER: Reason.STEM_MISMATCH,
    Mode.OFF_SKILL: Reason.OFF_SKILL,
    Mode.UNREADABLE_KEY: Reason.MALFORMED,
}
_KIND = EquationKind(verify_timeout_s=5.0, pool=SympyPool(workers=1))  # reads drafts only


def drafted(skill: str, mode: Mode, seed: int) -> ItemContent:
    reply = json.loads(question(skill, mode, random.Random(seed)))
    return _KIND.item(reply, subject="Algebra", topic="Linear Equations", skill=skill, difficulty=0)


@pytest.mark.parametrize("case", LEVELS, ids=[f"{s}@{n}" for s, n in LEVELS])
@given(seed=SEEDS)
@settings(max_examples=30, deadline=None)
def test_every_procedural_stem_is_its_problem_and_fits_its_skill(
    case: tuple[str, int], seed: int
) -> None:
    item = generate(case[0], case[1], seed)
    kind, problem = str(item.provenance["kind"]), str(item.provenance["problem"])
    assert stem_mismatch(item.stem, problem, kind) is None, item.stem
    assert misfit(PROFILES[item.skill], kind, problem) is None, problem


def test_every_catalog_skill_declares_a_profile() -> None:
    assert set(PROFILES) == {s.skill for s in GENERATOR_SKILLS}


@pytest.mark.parametrize("skill", LINEAR)
@given(seed=SEEDS, mode=st.sampled_from(HONEST))
@settings(max_examples=25, deadline=None)
def test_honest_model_drafts_are_accepted_with_the_stem_their_problem(
    skill: str, seed: int, mode: Mode
) -> None:
    item = drafted(skill, mode, seed)
    assert verify_item(item).ok, (item.stem, item.provenance["problem"])
    assert stem_mismatch(item.stem, str(item.provenance["problem"])) is None


def test_every_attack_of_the_model_server_has_an_expected_reason() -> None:
    assert set(ATTACKS) - set(HONEST) - {Mode.HEAVY_CHECK} == set(EXPECTED)


@pytest.mark.parametrize("skill", LINEAR)
@pytest.mark.parametrize("mode", list(EXPECTED), ids=[m.value for m in EXPECTED])
def test_each_attack_is_refused_under_its_own_reason(skill: str, mode: Mode) -> None:
    for seed in range(15):
        verdict = verify_item(drafted(skill, mode, seed))
        assert verdict.reason is EXPECTED[mode], (seed, verdict)


def test_the_example_that_reached_students_is_refused() -> None:
    """The stem says 2x + 3 = 11; the verified problem is 2x - 3 = 11, x = 7."""
    reply = {
        "stem": "Solve $2x + 3 = 11$",
        "problem": "2*x - 3 = 11",
        "answer": "x = 7",
        "steps": ["2*x = 14", "x = 7"],
        "distractors": [{"value": "x = 4", "misconception": "sign_error"}],
        "hints": ["Add 3 to both sides."],
    }
    item = _KIND.item(
        reply, subject="Algebra", topic="t", skill="linear_equations.two_step", difficulty=0
    )
    assert verify_item(item).reason is Reason.STEM_MISMATCH


def test_a_linear_equation_is_not_an_exponent_rule() -> None:
    reason = misfit(PROFILES["exponents.rules"], "equation", "2*x + 3 = 11")
    assert reason is not None and "equation" in reason
    assert misfit(PROFILES["quadratics.factoring"], "equation", "2*x + 3 = 11") is not None
    assert misfit(PROFILES["linear_equations.two_step"], "equation", "2.5*x + 3 = 11")
    assert misfit(PROFILES["linear_equations.two_step"], "equation", "2*x + 3*y = 11")
    assert misfit(PROFILES["linear_equations.fractions"], "equation", "2*x + 3 = 11")
    assert misfit(PROFILES["linear_equations.fractions"], "equation", "x/2 + 3 = 11") is None


@pytest.mark.parametrize(
    ("stem", "problem", "accepted"),
    [
        ("Solve for $x$: $2x - 3 = 11$", "2*x - 3 = 11", True),
        ("Solve $11 = 2x - 3$.", "2*x - 3 = 11", True),  # the sides swapped
        ("Solve $2 \\cdot x - 3 = 11$", "2*x - 3 = 11", True),
        ("Solve 2x \u2212 3 = 11 for x.", "2*x - 3 = 11", True),  # bare, a Unicode minus
        ("Twice a number, less 3, is 11. Find $x$.", "2*x - 3 = 11", True),
        ("Solve $4x - 6 = 22$", "2*x - 3 = 11", False),  # the same solutions, other numbers
        ("Solve for y: $2x - 3 = 11$", "2*x - 3 = 11", False),  # the words ask for y
        ("Solve $2x - 3 \\ne 11$", "2*x - 3 = 11", False),  # an unknown command
        ("Solve $2x - 3 = 11$ in 5 minutes.", "2*x - 3 = 11", False),
        ("Solve $2x - 3 = 11$ or $x = 9$", "2*x - 3 = 11", False),
        ("Find $x + 1$ when $2x - 3 = 11$", "2*x - 3 = 11", False),  # asks for another value
        ("Solve $2x - 3 = 11$, then add five.", "2*x - 3 = 11", False),  # a number in words
        ("Solve <!-- 2x - 3 = 11 --> for x.", "2*x - 3 = 11", False),  # hidden from the student
        ("Solve `2x - 3 = 11` for x.", "2*x - 3 = 11", True),
        ("Solve \\[2x + 3 = 11\\]", "2*x - 3 = 11", False),  # display math, read bare
        ("Solve $\\frac{x - 14}{2} = \\frac{x - 16}{3}$", "(x - 14)/2 = (x - 16)/3", True),
        ("Solve $x + 8 \\ge 21$", "x + 8 >= 21", True),
        ("Solve $21 \\le x + 8$", "x + 8 >= 21", True),
        ("Solve $x + 8 > 21$", "x + 8 >= 21", False),
        ("Compute $9.5 + 14.3$.", "9.5 + 14.3", True),
        ("Compute $9.5 + 14.3$.", "9.5 - 14.3", False),  # the same numbers, another operation
        ("Compute $14.3 + 9.5$.", "9.5 + 14.3", True),
        ("What is $10\\%$ of $150$?", "percent_of(10, 150)", True),
        ("What is $10\\%$ of $160$?", "percent_of(10, 150)", False),
    ],
)
def test_stem_math_is_held_to_the_problem(stem: str, problem: str, accepted: bool) -> None:
    kind = "inequality" if ">" in problem else "equation" if "=" in problem else "value"
    assert (stem_mismatch(stem, problem, kind) is None) is accepted


def test_stem_math_is_read_by_a_whitelist() -> None:
    assert mp.expr(plain(r"3\frac{1}{2} \times 2")) == 7
    assert mp.expr(plain(r"2^2\frac{1}{2}")) == 2
    assert mp.expr(plain(r"-\frac{5}{2}x")) == sympy.Rational(-5, 2) * mp.VARIABLES["x"]
    assert mp.expr(plain(r"\left(2x^{3}\right)^{2}")) == 4 * mp.VARIABLES["x"] ** 6
    assert mp.expr(plain("2(x + 1)")) == 2 * mp.VARIABLES["x"] + 2
    for hostile in (r"\input{/etc/passwd}", "__import__('os')", r"x^{9^{9^{9}}}", "x" * 600):
        with pytest.raises((UnreadableMath, mp.Unreadable)):
            mp.expr(plain(hostile))


def test_a_check_stops_at_its_own_deadline() -> None:
    item = drafted("linear_equations.two_step", Mode.HEAVY_CHECK, 1)
    verdict = verify_within(item, 0.3)
    assert verdict.reason is Reason.CHECK_TIMEOUT


def test_a_check_stops_even_when_its_first_alarm_lands_where_it_is_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An alarm's exception raised in a finalizer or weakref callback is dropped; the check must
    still stop (before, it ran on to the end: an hour for the degree-99 problem)."""

    def swallows_the_first_alarm(_item: ItemContent) -> object:
        with contextlib.suppress(BaseException):  # as a finalizer drops the first alarm's
            time.sleep(5.0)
        time.sleep(5.0)
        return "ran to its end"

    monkeypatch.setattr(llm_check, "verify_item", swallows_the_first_alarm)
    began = time.monotonic()
    verdict = verify_within(drafted("linear_equations.two_step", Mode.CORRECT, 1), 0.2)
    assert verdict.reason is Reason.CHECK_TIMEOUT
    assert time.monotonic() - began < 2.0
