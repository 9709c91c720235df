"""Logs on stderr naming the request (or job) and the trace they belong to: readable lines on a
terminal, one JSON object a line anywhere else (or as `PRACTICEGEN_LOG_FORMAT` says). The
standard library's records (uvicorn, SQLAlchemy) go through the same renderer, and every line
passes `redact_secrets` last, so no caller, present or future, can leak a secret into it.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Any, TextIO

import structlog

from practicegen.redaction import redact, redacted

__all__ = ["LogFormat", "configure_logging", "redact", "redact_secrets", "renders_json"]


class LogFormat(StrEnum):
    """The formats lines are rendered in (`PRACTICEGEN_LOG_FORMAT`)."""

    AUTO = "auto"  # text when stderr is a terminal, else JSON
    JSON = "json"  # one JSON object a line, for log collectors
    TEXT = "text"  # aligned, readable lines for people


def redact_secrets(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """The last processor before rendering: no secret reaches the stream, whoever logged it."""
    return {key: redacted(value) for key, value in event_dict.items()}


def add_trace_ids(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """The current span's ids, so a line can be found from its trace and the trace from it."""
    # Tracing is on only once `tracing.start` ran: a process that never loaded the module (a
    # command that only reads a database) has no ids to add, and is spared loading it.
    tracing = sys.modules.get("practicegen.tracing")
    ids = None if tracing is None else tracing.current_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def renders_json(log_format: LogFormat | str, stream: TextIO) -> bool:
    """Whether lines to `stream` are JSON: asked for, or `auto` and not a terminal."""
    chosen = LogFormat(log_format)
    return not stream.isatty() if chosen is LogFormat.AUTO else chosen is LogFormat.JSON


def _renderer(log_format: LogFormat | str, stream: TextIO) -> structlog.types.Processor:
    if renders_json(log_format, stream):
        return structlog.processors.JSONRenderer()
    # tracebacks come as text, redacted like the rest: never a frame's local variables
    return structlog.dev.ConsoleRenderer(
        colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


def configure_logging(
    *,
    level: str = "INFO",
    log_format: LogFormat | str = LogFormat.AUTO,
) -> None:
    """Every logger of the process writes to stderr in the chosen format."""
    stream = sys.stderr
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
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
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                _renderer(log_format, stream),
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
