"""Structured logs: one JSON object a line on stderr, naming the request (or job) it belongs to.

Context is bound through structlog's contextvars, and the standard library's records (uvicorn,
SQLAlchemy) go through the same renderer, so the stream stays machine-readable. Every line
passes `redact_secrets` last, so no caller, present or future, can leak a secret into it (a key
or token keeps its last four characters, as the key tables show it).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

REDACTED = "[redacted]"
# a query parameter whose name says it carries a secret: token, key, api_key, x-auth, secret...
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:[\w.-]*[_.-])?"
    r"(?:token|key|apikey|secret|password|passwd|signature|sig|auth|credentials?)=)"
    r"[^&;#\s\"']*"
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s\"']+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+")
# server keys (pgen_sk_) and student tokens (pgen_st_) wherever they stand: keep the suffix
_BEARER_SECRET = re.compile(r"\b(pgen_s[kt]_)[A-Za-z0-9_-]+([A-Za-z0-9_-]{4})\b")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+")


def redact(text: str) -> str:
    """`text` with every secret it shows replaced: query-string secrets, URL credentials,
    bearer values, keys and tokens (but their last four characters) and signing secrets."""
    text = _BEARER_SECRET.sub(rf"\1{REDACTED}\2", text)
    text = _WEBHOOK_SECRET.sub(f"whsec_{REDACTED}", text)
    text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)
    text = _SECRET_PARAM.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """The last processor before rendering: no secret reaches the stream, whoever logged it."""
    return {key: _redacted(value) for key, value in event_dict.items()}


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        # an event below the level is dropped before the other processors spend anything on it
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
