"""Text the databases can hold: no NUL and no unpaired surrogate, checked once per request before
routing (path, query, every key and string of a JSON body): a 422 `invalid_text` naming the field.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from practicegen.errors import InvalidText

_BAD = re.compile("[\x00\ud800-\udfff]")
# after json.loads, a valid surrogate pair is one character, so any surrogate left is unpaired
_ESCAPE = b"\\u"
_MESSAGE = "must not contain NUL characters or unpaired surrogates"


def _printable(name: str) -> str:
    return _BAD.sub(lambda bad: f"\\u{ord(bad.group()):04x}", name)


def _refuse(field: str, location: str) -> InvalidText:
    return InvalidText(
        errors=[{"field": field, "location": location, "message": _MESSAGE, "type": "invalid_text"}]
    )


def _first_bad(value: Any, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The path of the first key or string under `value` that holds bad text, if any."""
    if isinstance(value, str):
        return path if _BAD.search(value) else None
    if not isinstance(value, dict | list):
        return None
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(key, str) and _BAD.search(key):
            return (*path, _printable(key))
        if (found := _first_bad(item, (*path, str(key)))) is not None:
            return found
    return None


def check_body(body: bytes) -> None:
    """Refuse a JSON body whose text holds NUL or a lone surrogate; only a `\\u` escape can
    smuggle either into valid JSON, so a body without one is not parsed here."""
    if _ESCAPE not in body:
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # the endpoint answers malformed JSON with its own error
    if (found := _first_bad(document, ())) is not None:
        raise _refuse(".".join(found) or "body", "body")


def check_target(path: str, query_string: bytes) -> None:
    """Refuse a decoded path or query parameter holding bad text."""
    if _BAD.search(path):
        raise _refuse("path", "path")
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if _BAD.search(name) or _BAD.search(value):
            raise _refuse(_printable(name), "query")
