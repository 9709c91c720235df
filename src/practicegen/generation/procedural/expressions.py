"""Simplifying expressions: combining like terms and multiplying out parentheses.

Keys are in standard order (x^2, x, y, constant) and exact-form: simplifying is the skill.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import Term, group, linear, pick, poly, signed
from practicegen.generation.procedural.steps import Candidate, draft
from practicegen.ports import AnswerPolicy, ItemType

ORDER = ("x**2", "x", "y", "")


def _collect(terms: Sequence[Term]) -> dict[str, Fraction]:
    totals = dict.fromkeys(ORDER, Fraction(0))
    for coef, mono in terms:
        totals[mono] += coef
    return totals


def _standard(totals: dict[str, Fraction]) -> list[Term]:
    return [(totals[m], m) for m in ORDER]


def _wrong(terms: Sequence[Term], tag: str) -> Candidate:
    """A wrong answer: `terms` collected and written in standard order."""
    totals = _collect(terms)
    return tuple(totals[m] for m in ORDER), Wrong.of(poly(_standard(totals)), tag)


def _draft(
    stem: str,
    problem: str,
    totals: dict[str, Fraction],
    steps: list[Step],
    hints: list[str],
    candidates: list[Candidate],
    multiple_choice: bool = False,
) -> Draft:
    def top_up(i: int) -> Candidate:
        slip = (i // 2 + 1) * (1 if i % 2 == 0 else -1)
        return _wrong([*_standard(totals), (slip, "")], d.ARITHMETIC_SLIP)

    return draft(
        (CheckKind.EXPRESSION, ItemType.EXPRESSION, AnswerPolicy.EXACT_FORM),
        stem=stem,
        problem=problem,
        answer=poly(_standard(totals)),
        key=tuple(totals[m] for m in ORDER),
        steps=steps,
        hints=hints,
        candidates=candidates,
        top_up=top_up if multiple_choice else None,
        multiple_choice=multiple_choice,
    )


def _like_terms(rng: Random, level: int) -> list[Term]:
    if level == 1:
        return [(pick(rng, 2, 9), "x"), (pick(rng, 1, 12), ""), (pick(rng, 2, 9), "x")]
    if level == 2:
        terms: list[Term] = [
            (signed(rng, 2, 9), "x"),
            (signed(rng, 1, 12), ""),
            (signed(rng, 1, 9), "x"),
            (signed(rng, 1, 12), ""),
        ]
    else:
        second = rng.choice(("x**2", "y"))
        terms = [
            (signed(rng, 2, 9), second),
            (signed(rng, 2, 9), "x"),
            (signed(rng, 1, 9), second),
            (signed(rng, 1, 9), "x"),
            (signed(rng, 1, 12), ""),
        ]
    rng.shuffle(terms)
    return terms


def combine_like_terms(rng: Random, level: int) -> Draft:
    terms = _like_terms(rng, level)
    totals = _collect(terms)
    while all(totals[m] == 0 for m in ("x**2", "x", "y")):
        terms = _like_terms(rng, level)
        totals = _collect(terms)
    latex, plain = poly(terms)
    grouped = [t for m in ORDER for t in terms if t[1] == m]
    last_coef, last_mono = grouped[-1]
    return _draft(
        stem=f"Simplify by combining like terms: ${latex}$",
        problem=plain,
        totals=totals,
        steps=[
            Step("Group the like terms together", *poly(grouped)),
            Step("Add the coefficients of each group", *poly(_standard(totals))),
        ],
        hints=[
            "Like terms have the same variable part; only they can be combined.",
            "Group the terms by variable part, keeping each term's sign with it.",
            "Add the coefficients within each group.",
        ],
        candidates=[
            _wrong([(sum(c for c, _ in terms), "x")], "combined_unlike_terms"),
            _wrong([*terms, (-2 * last_coef, last_mono)], d.SIGN_ERROR),
            _wrong([t for t in terms if t[1]], d.STOPPED_EARLY),
        ],
    )


def _distribute_one(rng: Random, level: int) -> Draft:
    """a(bx + c), and a(bx + c) + e(x + f) at level 3."""
    a = pick(rng, 2, 9) if level == 1 else signed(rng, 2, 9)
    b, c = (1, pick(rng, 1, 9)) if level == 1 else (signed(rng, 1, 5), signed(rng, 1, 9))
    e, f = (signed(rng, 2, 6), signed(rng, 1, 9)) if level == 3 else (0, 0)
    parts = [group(a, linear(b, c))] + ([group(e, linear(1, f))] if e else [])
    rest: list[Term] = [(e, "x"), (e * f, "")]
    expanded: list[Term] = [(a * b, "x"), (a * c, ""), *rest] if e else [(a * b, "x"), (a * c, "")]
    totals = _collect(expanded)
    steps = [
        Step("Multiply each term inside the parentheses by the factor outside", *poly(expanded))
    ]
    if e:
        steps.append(Step("Combine like terms", *poly(_standard(totals))))
    return _draft(
        stem=f"Expand and simplify: ${' + '.join(p[0] for p in parts).replace('+ -', '- ')}$",
        problem=" + ".join(p[1] for p in parts),
        totals=totals,
        steps=steps,
        hints=[
            "Multiply the factor outside the parentheses by every term inside.",
            "Watch the signs: a negative factor changes the sign of each term it multiplies.",
            "Then combine any like terms.",
        ],
        candidates=[
            _wrong([(a * b, "x"), (c, ""), (e, "x"), (f, "")], d.FORGOT_TO_DISTRIBUTE),
            _wrong([(a * b, "x"), (-a * c, ""), *rest], d.SIGN_ERROR),
            _wrong([(a * b, "x"), (a + c, ""), *rest], d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.5,
    )


def _binomials(rng: Random) -> Draft:
    """(x + a)(x + b)."""
    a, b = signed(rng, 1, 9), signed(rng, 1, 9)
    first, second = linear(1, a), linear(1, b)
    totals = _collect([(1, "x**2"), (a + b, "x"), (a * b, "")])
    four = [(1, "x**2"), (b, "x"), (a, "x"), (a * b, "")]
    return _draft(
        stem=f"Expand and simplify: $({first[0]})({second[0]})$",
        problem=f"({first[1]})*({second[1]})",
        totals=totals,
        steps=[
            Step("Multiply each term of the first factor by each term of the second", *poly(four)),
            Step("Combine like terms", *poly(_standard(totals))),
        ],
        hints=[
            "Multiply every term in the first parentheses by every term in the second.",
            "You should get four products before combining: first, outer, inner, last.",
            "The two middle products are like terms.",
        ],
        candidates=[
            _wrong([(1, "x**2"), (a * b, "")], "multiplied_only_first_and_last_terms"),
            _wrong([(1, "x**2"), (a + b, "x"), (a + b, "")], d.ADDED_INSTEAD_OF_MULTIPLIED),
            _wrong([(1, "x**2"), (a * b, "x"), (a + b, "")], "swapped_sum_and_product"),
            _wrong([(1, "x**2"), (-(a + b), "x"), (a * b, "")], d.SIGN_ERROR),
        ],
        multiple_choice=rng.random() < 0.5,
    )


def distribute(rng: Random, level: int) -> Draft:
    return _binomials(rng) if level == 4 else _distribute_one(rng, level)
