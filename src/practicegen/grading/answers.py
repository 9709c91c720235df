"""Reading untrusted math text (`2x+3`, `x = 2 or x = -3`, `-2 < x <= 4`, `{2, -3}`, `(1, 2)`,
`no solution`) into answer trees without ever evaluating it: sympy's own parser `eval`s text,
so nothing from here reaches `parse_expr` or `sympify`. `tokenize` holds text to a whitelist,
refusing the rest with a reason a student can read; the parser bounds the tree's depth.

Conventions: `^` and `**` are right-associative powers and `-x^2` is `-(x^2)`; implicit
multiplication binds like `*`, so `1/2x` is `x/2`; a run of two or three letters is a product of
variables (`xy`); decimals are exact rationals; letters are case-folded, so sympy's names `E`,
`I`, `N`, `S`, `O`, `Q` never arise; Unicode math signs mean what they look like.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

Expr: TypeAlias = Any  # sympy ships no type information

DEFAULT_MAX_LENGTH = 200
MAX_DEPTH = 24  # parentheses, signs and exponents nested inside one another
MAX_TREE_DEPTH = 120  # operations in a row: sympy and the checks here recurse on the tree

NO_SOLUTION = "no solution"
ALL_REALS = "all real numbers"
_PHRASES = dict.fromkeys(("no solution", "no solutions", "none"), NO_SOLUTION) | dict.fromkeys(
    ("all real numbers", "all reals"), ALL_REALS
)
# minus, en dash, times, middle dot, dot operator, divide; then <= >= pi squared cubed empty set
_UNICODE = str.maketrans("\u2212\u2013\u00d7\u00b7\u22c5\u00f7", "--***/") | str.maketrans(
    {
        "\u2264": "<=",
        "\u2265": ">=",
        "\u03c0": " pi ",
        "\u00b2": "^2",
        "\u00b3": "^3",
        "\u2205": "{}",
    }
)
_ROOT = "\u221a"
_LEX = re.compile(
    r"(?P<space>\s+)|(?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)|(?P<word>[a-z]+)"
    r"|(?P<op>\*\*|<=|>=|[-+*/^=<>(){},\u221a])"
)
_KEYWORDS = {"sqrt": "func", "abs": "func", "pi": "pi", "or": "join", "and": "join"}
_UNKNOWN_FUNCTIONS = frozenset(
    {"sin", "cos", "tan", "sec", "csc", "cot", "log", "ln", "lg", "exp", "mod", "max", "min"}
)
_MAX_LETTER_RUN = 3
_RELATIONS = frozenset({"=", "<", ">", "<=", ">="})
_REFUSALS = {
    ".": "A '.' can only be a decimal point inside a number.",
    "_": "Underscores are not allowed in answers.",
    **dict.fromkeys("'\"`", "Quotes are not allowed in answers."),
    **dict.fromkeys("[]", "Use parentheses ( ) for grouping."),
}


class AnswerError(ValueError):
    """Text that is not a well-formed answer; `reason` is one sentence a student can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLong(AnswerError):
    """Text longer than the length cap."""


class NotASolution(AnswerError):
    """Well-formed, but not the kind of answer asked for (`2x = 8` where a solution is due)."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, var, func, pi, join, op, end
    text: str


@dataclass(frozen=True, slots=True)
class Node:
    """One node of an expression as written: `op` is num, dec, var, pi, sqrt, abs, neg or
    one of `+ - * / ^`."""

    op: str
    args: tuple[Node, ...] = ()
    text: str = ""  # the numeral or the variable's name


@dataclass(frozen=True, slots=True)
class Relation:
    """`x = 4`, `x > 3` or the chain `-2 < x <= 4`: sides[i] ops[i] sides[i + 1]."""

    sides: tuple[Node, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Point:
    """A parenthesised tuple, `(1, 2)`: one solution of a system, in variable-name order."""

    coords: tuple[Node, ...]


Clause: TypeAlias = Node | Relation | Point


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer's structure: clauses joined by `,`, `or`, `and`; a `{...}` set; or a phrase."""

    clauses: tuple[Clause, ...] = ()
    joiners: tuple[str, ...] = ()
    braced: bool = False
    phrase: str = ""  # NO_SOLUTION or ALL_REALS


def read(text: str, *, max_length: int = DEFAULT_MAX_LENGTH) -> Answer:
    """The structure of an answer, or `AnswerError` saying why it cannot be read."""
    if len(text) > max_length:
        raise TooLong(f"Answers are limited to {max_length} characters.")
    text = text.strip()
    text = text[:-1] if text.endswith(".") and not text.endswith("..") else text  # a full stop
    phrase = " ".join(text.lower().split())
    if phrase in _PHRASES:
        return Answer(phrase=_PHRASES[phrase])
    tokens = tokenize(text)
    if len(tokens) == 1:
        raise AnswerError("The answer is empty.")
    answer = _Parser(tokens).answer()
    if _deepest(answer) > MAX_TREE_DEPTH:
        raise AnswerError("The answer has too many operations in a row.")
    return answer


def _deepest(answer: Answer) -> int:
    """The depth of the deepest expression tree (`1+1+...+1` is deep without parentheses)."""
    stack = [(node, 1) for clause in answer.clauses for node in nodes_of(clause)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((arg, depth + 1) for arg in node.args)
    return deepest


def tokenize(text: str) -> list[Token]:
    """The whitelisted tokens of `text`, ending with an `end` token."""
    source = text.translate(_UNICODE).lower()
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        if (match := _LEX.match(source, at)) is None:
            char = source[at]
            raise AnswerError(
                _REFUSALS.get(char, f"The character {char!r} is not allowed in answers.")
            )
        at = match.end()
        kind, value = match.lastgroup or "", match.group()
        if kind == "word":
            tokens.extend(_word(value))
        elif kind != "space":
            tokens.append(Token(kind, value))
    tokens.append(Token("end", ""))
    return tokens


def _word(word: str) -> list[Token]:
    if word in _KEYWORDS:
        return [Token(_KEYWORDS[word], word)]
    if word in _UNKNOWN_FUNCTIONS:
        raise AnswerError(f"The function {word!r} is not supported here.")
    if len(word) > _MAX_LETTER_RUN:
        raise AnswerError(f"The word {word!r} is not understood; variables are single letters.")
    return [Token("var", letter) for letter in word]


class _Parser:
    """Recursive descent over the tokens; every level of nesting counts toward MAX_DEPTH."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._at = 0
        self._depth = 0

    def answer(self) -> Answer:
        if self._peek().text == "{":
            return self._braced()
        clauses = [self._clause()]
        joiners: list[str] = []
        while self._peek().kind == "join" or self._peek().text == ",":
            joiners.append(self._take().text)
            clauses.append(self._clause())
        self._expect("end")
        return Answer(tuple(clauses), tuple(joiners))

    def _braced(self) -> Answer:
        self._take()
        clauses: list[Clause] = []
        if self._peek().text != "}":
            clauses.append(self._clause())
            while self._accept(","):
                clauses.append(self._clause())
        self._expect("}")
        self._expect("end")
        if any(isinstance(c, Relation) for c in clauses):
            raise AnswerError("A set lists values, as in {2, -3}.")
        return Answer(tuple(clauses), ("",) * max(len(clauses) - 1, 0), braced=True)

    def _clause(self) -> Clause:
        if self._peek().text == "(" and (point := self._point()) is not None:
            return point
        sides = [self._expression()]
        ops: list[str] = []
        while self._peek().text in _RELATIONS:
            ops.append(self._take().text)
            sides.append(self._expression())
        if not ops:
            return sides[0]
        if len(ops) > 2:
            raise AnswerError("Use at most two comparisons in a row, as in -2 < x <= 4.")
        return Relation(tuple(sides), tuple(ops))

    def _point(self) -> Point | None:
        start = self._at
        self._take()
        coords = [self._expression()]
        if self._peek().text != ",":
            self._at = start
            return None
        while self._accept(","):
            coords.append(self._expression())
        self._expect(")")
        return Point(tuple(coords))

    def _expression(self) -> Node:
        return self._nested(self._sum)

    def _sum(self) -> Node:
        node = self._term()
        while self._peek().text in ("+", "-"):
            node = Node(self._take().text, (node, self._term()))
        return node

    def _term(self) -> Node:
        node = self._unary()
        while True:
            token = self._peek()
            if token.text in ("*", "/"):
                self._take()
                node = Node(token.text, (node, self._unary()))
            elif token.kind in ("var", "pi", "func") or token.text in ("(", _ROOT):
                node = Node("*", (node, self._power()))
            else:
                return node

    def _unary(self) -> Node:
        if self._peek().text not in ("+", "-"):
            return self._power()
        sign = self._take().text
        operand = self._nested(self._unary)
        return Node("neg", (operand,)) if sign == "-" else operand

    def _power(self) -> Node:
        base = self._primary()
        if self._peek().text not in ("^", "**"):
            return base
        self._take()
        return Node("^", (base, self._nested(self._unary)))

    def _primary(self) -> Node:
        token = self._take()
        if token.kind == "num":
            return Node("dec" if "." in token.text else "num", text=token.text)
        if token.kind == "var":
            return Node("var", text=token.text)
        if token.kind == "pi":
            return Node("pi")
        if token.kind == "func":
            self._expect("(")
            argument = self._expression()
            self._expect(")")
            return Node(token.text, (argument,))
        if token.text == _ROOT:
            return Node("sqrt", (self._nested(self._primary),))
        if token.text == "(":
            inner = self._expression()
            self._expect(")")
            return inner
        if token.kind == "end":
            raise AnswerError("The answer ends too early.")
        raise AnswerError(f"Unexpected {token.text!r}.")

    def _nested(self, parse: Callable[[], Node]) -> Node:
        """What `parse` reads one level deeper."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise AnswerError("The answer is nested too deeply.")
        node = parse()
        self._depth -= 1
        return node

    def _peek(self) -> Token:
        return self._tokens[self._at]

    def _take(self) -> Token:
        token = self._tokens[self._at]
        if token.kind != "end":
            self._at += 1
        return token

    def _accept(self, text: str) -> bool:
        if self._peek().text == text:
            self._take()
            return True
        return False

    def _expect(self, text: str) -> None:
        token = self._peek()
        if self._accept(text) or (text == "end" and token.kind == "end"):
            return
        if token.kind == "end":
            raise AnswerError(f"The answer ends too early: expected {text!r}.")
        wanted = "the end of the answer" if text == "end" else repr(text)
        raise AnswerError(f"Unexpected {token.text!r}: expected {wanted}.")


def nodes_of(clause: Clause) -> tuple[Node, ...]:
    """The expressions a clause writes: a point's coordinates, a relation's sides, or itself."""
    if isinstance(clause, Point):
        return clause.coords
    if isinstance(clause, Relation):
        return clause.sides
    return (clause,)
