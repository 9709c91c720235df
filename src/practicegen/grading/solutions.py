"""What an answer names as a solution set (values, lists, inequalities, systems), keeping the
values as written for exact-form checks."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from practicegen.grading.answers import (
    ALL_REALS,
    Answer,
    Clause,
    Expr,
    Node,
    NotASolution,
    Point,
    Relation,
)
from practicegen.grading.values import to_sympy


@dataclass(frozen=True, slots=True)
class Solutions:
    """What a solution-set answer names: `points`, a subset of the reals, or for a system a
    FiniteSet of Tuples in variable-name order; `variables`, empty when it names none (`4`,
    `{2, -3}`, `(1, 2)`); `written`, the values as written, for exact-form checks."""

    variables: tuple[str, ...]
    points: Expr
    written: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class _Fact:
    variable: str  # "" for a bare value
    points: Expr
    written: tuple[Node, ...]
    equality: bool


def solutions(answer: Answer) -> Solutions:
    """The solution set an answer names; `NotASolution` if it names none (`2x = 8`)."""
    if answer.phrase or not answer.clauses:
        points = sympy.S.Reals if answer.phrase == ALL_REALS else sympy.S.EmptySet
        return Solutions((), points, ())
    if any(isinstance(c, Point) for c in answer.clauses):
        return _tuples(answer.clauses)
    facts = [_fact(clause) for clause in answer.clauses]
    names = sorted({f.variable for f in facts if f.variable})
    if len(names) > 1:
        return _system(facts, answer.joiners, names)
    written = tuple(node for f in facts for node in f.written)
    return Solutions(tuple(names), _combine(facts, answer.joiners), written)


def expression(answer: Answer) -> Node:
    """The single expression an answer must be (`NotASolution` for a list or a relation)."""
    if len(answer.clauses) == 1 and isinstance(answer.clauses[0], Node) and not answer.braced:
        return answer.clauses[0]
    raise NotASolution("Give a single value, not a list, set or equation.")


def assigned_value(answer: Answer) -> Node | None:
    """The right side of an answer written `m = 3`, if that is its form."""
    clause = answer.clauses[0] if len(answer.clauses) == 1 else None
    if isinstance(clause, Relation) and clause.ops == ("=",) and clause.sides[0].op == "var":
        value = clause.sides[1]
        if not to_sympy(value).free_symbols:
            return value
    return None


def listed_point(answer: Answer) -> Point | None:
    """`1, 2` read as the point (1, 2), for a system whose solution was written loosely."""
    clauses = answer.clauses
    if answer.braced or len(clauses) < 2 or set(answer.joiners) != {","}:
        return None
    coords = [c for c in clauses if isinstance(c, Node)]
    return Point(tuple(coords)) if len(coords) == len(clauses) else None


def _constant(node: Node, *, real: bool = False) -> Expr:
    value = to_sympy(node)
    if value.free_symbols:
        raise NotASolution("Each solution should be a number, as in x = 4.")
    if real and value.is_extended_real is not True:
        raise NotASolution("An inequality's bound must be a real number.")
    return value


def _tuples(clauses: tuple[Clause, ...]) -> Solutions:
    points = [c for c in clauses if isinstance(c, Point)]
    if len(points) != len(clauses) or len({len(p.coords) for p in points}) != 1:
        raise NotASolution("Write each solution of a system as a point, as in (1, 2).")
    values = [sympy.Tuple(*(_constant(c) for c in p.coords)) for p in points]
    return Solutions((), sympy.FiniteSet(*values), tuple(c for p in points for c in p.coords))


def _fact(clause: Clause) -> _Fact:
    if isinstance(clause, Node):
        return _Fact("", sympy.FiniteSet(_constant(clause)), (clause,), equality=True)
    if isinstance(clause, Point):
        raise NotASolution("Give points such as (1, 2), or values, but not both.")
    if clause.ops == ("=",):
        name, bound = _lone_variable(clause.sides[0], clause.sides[1])
        return _Fact(name, sympy.FiniteSet(_constant(bound)), (bound,), equality=True)
    if "=" in clause.ops:
        raise NotASolution("Write each solution as x = value.")
    return _inequality(clause) if len(clause.ops) == 1 else _between(clause)


def _lone_variable(left: Node, right: Node) -> tuple[str, Node]:
    """(name, other side) for `x = 4` or `4 = x`."""
    if left.op == "var" and not to_sympy(right).free_symbols:
        return left.text, right
    if right.op == "var" and not to_sympy(left).free_symbols:
        return right.text, left
    raise NotASolution("Write the solution with the variable alone on one side, as in x = 4.")


FLIPPED = {">": "<", "<": ">", ">=": "<=", "<=": ">="}  # a relation read from the other side


def ray(op: str, bound: Expr) -> Expr:
    """The real numbers `x op bound` holds for."""
    return {
        ">": sympy.Interval.open(bound, sympy.oo),
        ">=": sympy.Interval(bound, sympy.oo),
        "<": sympy.Interval.open(-sympy.oo, bound),
        "<=": sympy.Interval(-sympy.oo, bound),
    }[op]


def _inequality(relation: Relation) -> _Fact:
    left, right = relation.sides
    op = relation.ops[0]
    name, bound = _lone_variable(left, right)
    if bound is left:
        op = FLIPPED[op]
    return _Fact(name, ray(op, _constant(bound, real=True)), (bound,), equality=False)


def _between(relation: Relation) -> _Fact:
    """`-2 < x <= 4` or `4 >= x > -2`."""
    low, middle, high = relation.sides
    first, second = relation.ops
    rising, falling = {first, second} <= {"<", "<="}, {first, second} <= {">", ">="}
    if middle.op != "var" or not (rising or falling):
        raise NotASolution("Write a range as -2 < x <= 4, with x in the middle.")
    if first in (">", ">="):
        low, high, first, second = high, low, FLIPPED[second], FLIPPED[first]
    start, end = _constant(low, real=True), _constant(high, real=True)
    interval = sympy.Interval(start, end, first == "<", second == "<")
    return _Fact(middle.text, interval, (low, high), equality=False)


def _combine(facts: list[_Fact], joiners: tuple[str, ...]) -> Expr:
    """`or` and `,` unite; `and` intersects, except between plain values (`x = 2 and x = -3`
    is how many students list two solutions, so it unites them)."""
    groups = [[facts[0]]]
    for joiner, fact in zip(joiners, facts[1:], strict=True):
        if joiner == "and":
            groups[-1].append(fact)
        else:
            groups.append([fact])

    def joined(group: list[_Fact]) -> Expr:
        sets = [f.points for f in group]
        return sympy.Union(*sets) if all(f.equality for f in group) else sympy.Intersection(*sets)

    return sympy.Union(*(joined(group) for group in groups))


def _system(facts: list[_Fact], joiners: tuple[str, ...], names: list[str]) -> Solutions:
    """`x = 1, y = 2` (or `x = 1 and y = 2`): one point, coordinates in name order."""
    values: dict[str, tuple[Expr, Node]] = {}
    for fact in facts:
        if not (fact.equality and fact.variable) or "or" in joiners:
            raise NotASolution("Write a system's solution as x = 1, y = 2 or as (1, 2).")
        if fact.variable in values:
            raise NotASolution(f"{fact.variable} is given more than once.")
        values[fact.variable] = (next(iter(fact.points)), fact.written[0])
    point = sympy.Tuple(*(values[n][0] for n in names))
    return Solutions(tuple(names), sympy.FiniteSet(point), tuple(values[n][1] for n in names))
