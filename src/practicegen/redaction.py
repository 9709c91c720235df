"""Secrets taken out of text that leaves the process for people or tools to read: log lines
and exported trace spans. A key or token keeps its last four characters, as the key tables
show it; everything else secret is replaced whole."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
# a query parameter whose name says it carries a secret: token, key, api_key, x-auth, secret...
_SENSITIVE_NAME = (
    r"(?:[\w.-]*[_.-])?(?:token|key|apikey|secret|password|passwd|signature|sig|auth|credentials?)="
)
_SECRET_PARAM = re.compile(rf"(?i)([?&;]{_SENSITIVE_NAME})[^&;#\s\"']*")
# the same in a query string without its leading `?` (a span's `url.query`)
_LEADING_SECRET_PARAM = re.compile(rf"(?i)^({_SENSITIVE_NAME})[^&;#\s\"']*")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s\"']+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+")
# server keys (pgen_sk_) and student tokens (pgen_st_) wherever they stand: keep the suffix
_BEARER_SECRET = re.compile(r"\b(pgen_s[kt]_)[A-Za-z0-9_-]+([A-Za-z0-9_-]{4})\b")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+")


def redact(text: str) -> str:
    """`text` with every secret it shows replaced (a key or token keeps its last four)."""
    text = _BEARER_SECRET.sub(rf"\1{REDACTED}\2", text)
    text = _WEBHOOK_SECRET.sub(f"whsec_{REDACTED}", text)
    text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)
    text = _SECRET_PARAM.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def redact_query(query: str) -> str:
    """A bare query string (`a=1&token=...`) with its secret parameters replaced."""
    return redact(_LEADING_SECRET_PARAM.sub(rf"\1{REDACTED}", query))


def redacted(value: Any) -> Any:
    """`value` with `redact` applied to every string in it, through dicts, lists and tuples."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value
