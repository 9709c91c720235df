"""The wall clock as one type: code that needs the time takes a `Clock` rather than reading the
system clock, so a test can pass its own. Times compared across processes come from the
database's `now()`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Answers the current time, timezone-aware UTC."""


def utcnow() -> datetime:
    """The system's wall clock in UTC: the real `Clock`."""
    return datetime.now(UTC)
