"""Reading a stem's math (`$...$` LaTeX, or bare text such as `2x + 3 = 11`) into the plain
form `procedural.mathparse` reads, so a stem can be compared with its verified problem.

A whitelist, not a LaTeX engine: the commands school algebra uses are rewritten and any other
makes the math unreadable, so model text is never evaluated as Python. A digit before a numeric
`\\frac` is a mixed number; juxtaposition is multiplication (`2x`, `3(x + 1)`, `xy`).
"""

from __future__ import annotations

import re

from practicegen.generation.procedural import mathparse as mp

_SIMPLE = {
    **dict.fromkeys((r"\cdot", r"\times"), "*"),
    r"\div": "/",
    **dict.fromkeys((r"\leq", r"\le"), "<="),
    **dict.fromkeys((r"\geq", r"\ge"), ">="),
    r"\lt": "<",
    r"\gt": ">",
    r"\pi": " pi ",
    **dict.fromkeys((r"\left", r"\right", r"\%", r"\!"), ""),
    **dict.fromkeys((r"\,", r"\;", r"\quad"), " "),
}
_UNICODE = str.maketrans(
    {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u00f7": "/", "\u2264": "<=", "\u2265": ">="}
)
_COMMAND = re.compile(r"\\[A-Za-z]+|\\[%,;!]")
_ALLOWED = re.compile(r"^[0-9A-Za-z\s+\-*/^().,=<>{}\[\]\\%!;]*$")
_FRAC = re.compile(r"\\[dt]?frac")
_INTEGER = re.compile(r"^\s*\d+\s*$")
# The digits just before a fraction, unless part of a decimal or an exponent (`x^2\frac{1}{2}`).
_WHOLE = re.compile(r"(?<![.^_\d])\d+\Z")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+|\*\*|<=|>=|\S")
_FUNCTIONS = frozenset({"sqrt"})
_NAMES = frozenset({"pi", "sqrt"})
_RELATION = re.compile(r"(<=|>=|<|>|=)")


class UnreadableMath(ValueError):
    """Math in a stem that this reader does not know how to read."""


def _braced(text: str, start: int) -> tuple[str, int]:
    """The contents of the `{...}` group opening at `start`, and the index after it."""
    if start >= len(text) or text[start] != "{":
        raise UnreadableMath(f"expected a braced group in {text!r}")
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index], index + 1
    raise UnreadableMath(f"unbalanced braces in {text!r}")


def _expand_commands(text: str) -> str:
    r"""`\frac{a}{b}` -> `((a)/(b))`, `\sqrt{a}` -> `sqrt(a)`, `^{a}` -> `**(a)`, recursively."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if frac := _FRAC.match(text, index):
            top, after = _braced(text, frac.end())
            bottom, index = _braced(text, after)
            shown = f"(({_expand_commands(top)})/({_expand_commands(bottom)}))"
            whole = _WHOLE.search("".join(out))
            if whole and _INTEGER.match(top) and _INTEGER.match(bottom):
                del out[-len(whole[0]) :]  # one character per entry
                shown = f"({whole[0]}+{shown})"  # a mixed number
            out.append(shown)
        elif text.startswith(r"\sqrt", index):
            inner, index = _braced(text, index + len(r"\sqrt"))
            out.append(f"sqrt({_expand_commands(inner)})")
        elif text.startswith("^{", index):
            inner, index = _braced(text, index + 1)
            out.append(f"**({_expand_commands(inner)})")
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def _simple_commands(text: str) -> str:
    def replace(found: re.Match[str]) -> str:
        command = found.group(0)
        if command in _SIMPLE:
            return _SIMPLE[command]
        if _FRAC.fullmatch(command) or command == r"\sqrt":
            return command
        raise UnreadableMath(f"unknown command {command} in {text!r}")

    return _COMMAND.sub(replace, text)


def _juxtaposed(text: str) -> str:
    """Explicit `*` where math writes products by juxtaposition; names split into letters."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isalpha() and token not in _NAMES:
            tokens.extend(token)  # "xy" is x times y
        else:
            tokens.append(token)
    out: list[str] = []
    for lexeme in tokens:
        previous = out[-1] if out else ""
        ends_operand = previous == ")" or (previous[:1].isalnum() and previous not in _FUNCTIONS)
        if ends_operand and (lexeme == "(" or lexeme[0].isalnum()):
            out.append("*")
        out.append(lexeme)
    return " ".join(out)


def plain(math: str) -> str:
    """The plain, `mathparse`-readable form of one piece of stem math (no `$` delimiters)."""
    math = math.translate(_UNICODE)
    if not _ALLOWED.match(math) or len(math) > mp.MAX_LENGTH:
        raise UnreadableMath(f"unexpected characters in {math!r}")
    text = _expand_commands(_simple_commands(math))
    if "\\" in text:
        raise UnreadableMath(f"unknown command in {math!r}")
    text = text.replace("{", "(").replace("}", ")").replace("[", "(").replace("]", ")")
    return _juxtaposed(text.replace("^", "**"))


def relation_parts(text: str) -> tuple[list[str], list[str]]:
    """A plain text split at its relation signs: (the sides, the signs between them)."""
    pieces = _RELATION.split(text)
    return pieces[0::2], pieces[1::2]
