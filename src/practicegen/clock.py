"""The wall clock as one type: code takes a `Clock` rather than reading the system clock, so a
test can pass its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]  # the current time, timezone-aware UTC


def utcnow() -> datetime:
    """The system's wall clock in UTC: the real `Clock`."""
    return datetime.now(UTC)
