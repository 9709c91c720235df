"""Proving that the stem a student reads is the problem that was verified.

sympy verifies the `problem`; a model writes the `stem` apart from it, so the two can disagree.
Every piece of math in the stem (`$...$` LaTeX through `stem_latex`, bare math in the words) is
held to the problem: an equation or inequality may only be rearranged (a nonzero, for an
inequality positive, multiple of the problem's), a system's equations must all be shown, an
expression must equal the problem, a lone letter must be an unknown, and the stem's numbers,
words such as "twice" included, must be exactly the problem's. HTML, which could hide the math,
is refused; answer templates and number-only examples are passed over; the unreadable mismatches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sympy

from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.checks import same_expression
from practicegen.generation.stem_latex import UnreadableMath, plain, relation_parts

_SPAN = re.compile(r"\$\$?([^$]+?)\$\$?|\\\((.+?)\\\)", re.DOTALL)
_TEMPLATE = re.compile(r"\\l?dots|\\text\s*\{\s*or\s*\}")
_UNITS = re.compile(r"\\(?:text|mathrm)\s*\{[A-Za-z\s]*\}")
# Bare math in words: numbers, lone letters, operators and relations (no sentence punctuation).
_SIGNS = "+\\-*/^=<>\u2212\u00d7\u00f7\u00b7\u2264\u2265"
_BARE = re.compile(rf"(?:\d+(?:\.\d+)?|(?<![A-Za-z])[a-z](?![A-Za-z])|[{_SIGNS}()]|[ \t])+")
_OPERATOR = re.compile(rf"[{_SIGNS}]")
_OPERAND = re.compile(r"\d|(?<![A-Za-z])[a-z](?![A-Za-z])")
# Letters that name an unknown when they stand alone in words ("solve for y"); not "a".
_WORD_UNKNOWNS = frozenset(mp.VARIABLES) - {"a"}
_EXAMPLE = re.compile(r"\((?:for example|e\.g\.)[^()$]*(?:\$[^$]*\$[^()$]*)*\)", re.IGNORECASE)
_NUMBER_ONLY = re.compile(r"^[\d.\s]*(?:\\%)?\s*$")
# Cardinals and multiples only: ordinals are also instructions ("round to the nearest tenth").
_CARDINALS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_MULTIPLES = {
    2: "twice double doubles doubled",
    3: "thrice triple triples tripled",
    4: "quadruple quadruples quadrupled",
}
_NUMBER_WORDS = {word: str(n) for n, word in enumerate(_CARDINALS, start=2)} | {
    word: str(n) for n, words in _MULTIPLES.items() for word in words.split()
}
_NUMERAL = re.compile(r"^-?\s*(?:\d+(?:\.\d+)?|pi)$")  # one number; "3 + 4" is an expression
_MARKUP = re.compile(r"<[A-Za-z!/?]")  # an HTML tag or comment in the words
_FLIP = {"<": ">", "<=": ">=", ">": ">", ">=": ">="}

Expr = Any


@dataclass(frozen=True, slots=True)
class _Relation:
    difference: Expr  # lhs - rhs, turned so that the relation reads "difference <op> 0"
    op: str  # "=", ">" or ">="
    symbols: frozenset[Expr]  # of both sides (the difference may have lost them: 3x = 3x + 1)


@dataclass(frozen=True, slots=True)
class _Problem:
    kind: str
    relations: tuple[_Relation, ...]  # the equations (inequality) of the problem
    value: Expr | None  # an expression or value problem's expression
    unknowns: frozenset[Expr]
    numbers: frozenset[str]


class _Mismatch(Exception):
    pass


def stem_mismatch(stem: str, problem: str, kind: str = "equation") -> str | None:
    """Why `stem` is not `problem` (a `CheckKind` value names how to read it); None if it is."""
    try:
        _check(stem, _read_problem(problem, kind))
    except _Mismatch as exc:
        return str(exc)
    except (UnreadableMath, *mp.MATH_FAILURES) as exc:
        return f"unreadable math: {exc}"
    return None


def math_pieces(stem: str) -> tuple[list[str], str]:
    """The plain form of every piece of math in the stem, and its words with the math cut out."""
    stem = _EXAMPLE.sub(_drop_number_example, stem.replace(r"\$", " "))
    pieces: list[str] = []
    for found in _SPAN.finditer(stem):
        latex = found.group(1) if found.group(1) is not None else found.group(2)
        if _TEMPLATE.search(latex):
            if re.search(r"\d", latex):
                raise _Mismatch(f"an answer template shows numbers: {latex!r}")
            continue
        pieces.append(plain(_UNITS.sub(" ", latex)))
    words = _SPAN.sub(" | ", stem)
    for run in _BARE.findall(words):
        if _OPERATOR.search(run) and _OPERAND.search(run):
            pieces.append(plain(run.strip()))
    return pieces, words


def _drop_number_example(found: re.Match[str]) -> str:
    """An answer-format example of numbers only is not the problem; one with more is checked."""
    spans = [a or b for a, b in _SPAN.findall(found.group(0))]
    return " " if all(_NUMBER_ONLY.match(span) for span in spans) else found.group(0)


def _read_problem(problem: str, kind: str) -> _Problem:
    relations: tuple[_Relation, ...] = ()
    value = None
    if kind in ("equation", "line_slope", "inequality"):
        relations = (_relation(problem),)
    elif kind == "system":
        relations = tuple(_relation(part) for part in problem.split(";"))
    else:
        value = mp.expr(problem)
    symbols = [r.symbols for r in relations] + ([value.free_symbols] if value is not None else [])
    unknowns = frozenset().union(*symbols)
    return _Problem(kind, relations, value, unknowns, frozenset(mp.numbers_in(problem)))


def _relation(text: str) -> _Relation:
    sides, signs = relation_parts(text)
    if len(signs) != 1:
        raise _Mismatch(f"expected one relation in {text!r}")
    lhs, rhs = (mp.expr(side) for side in sides)
    op = signs[0]
    if op in ("<", "<="):
        lhs, rhs = rhs, lhs
    return _Relation(lhs - rhs, _FLIP.get(op, op), frozenset(lhs.free_symbols | rhs.free_symbols))


def _check(stem: str, problem: _Problem) -> None:
    pieces, words = math_pieces(stem)
    if _MARKUP.search(words):
        raise _Mismatch("the stem has markup that could hide or restyle text")
    shown = [_relation(p) if relation_parts(p)[1] else p for p in _parts(pieces)]
    matched: set[int] = set()
    for piece in shown:
        if isinstance(piece, _Relation):
            matched.add(_match_relation(piece, problem))
        elif not _NUMERAL.match(piece):  # a lone number is held to the problem's numbers below
            value = mp.expr(piece)
            if value.is_Symbol:
                if value not in problem.unknowns:
                    raise _Mismatch(f"the stem names {value}, not an unknown of the problem")
            elif problem.value is None or not same_expression(value, problem.value):
                raise _Mismatch(f"the stem shows {value}, not the problem")
    if problem.kind == "system" and matched and len(matched) < len(problem.relations):
        raise _Mismatch("the stem does not show every equation of the system")
    names = {str(u) for u in problem.unknowns}
    for letter in re.findall(r"(?<![A-Za-z])[a-z](?![A-Za-z])", words):
        if letter in _WORD_UNKNOWNS and letter not in names:
            raise _Mismatch(f"the stem's words name {letter}, not an unknown of the problem")
    spelled = {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", words.lower()) if w in _NUMBER_WORDS}
    numbers = mp.numbers_in(" ".join(pieces)) | mp.numbers_in(words) | spelled
    if added := numbers - problem.numbers:
        raise _Mismatch(f"the stem shows {sorted(added)}, not in the problem")
    if missing := problem.numbers - numbers:
        raise _Mismatch(f"the stem does not show {sorted(missing)} from the problem")


def _parts(pieces: list[str]) -> Iterator[str]:
    """Each piece split at its commas, a point's parentheses taken off."""
    for piece in pieces:
        for text in piece.split(","):
            part = text.strip()
            while part.startswith("(") and part.count("(") > part.count(")"):
                part = part[1:].strip()
            while part.endswith(")") and part.count(")") > part.count("("):
                part = part[:-1].strip()
            if part:
                yield part


def _match_relation(shown: _Relation, problem: _Problem) -> int:
    """The index of the problem relation `shown` is; `_Mismatch` if it is none of them."""
    for index, truth in enumerate(problem.relations):
        if shown.op != truth.op or truth.difference == 0:
            continue
        ratio = sympy.cancel(shown.difference / truth.difference)
        if ratio.free_symbols or ratio == 0:
            continue
        if truth.op == "=" or ratio > 0:
            return index
    raise _Mismatch(f"the stem shows {shown.difference} {shown.op} 0, not the problem")
