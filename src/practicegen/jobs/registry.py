"""Job types, registered by the packages that own them (through `app.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Job

Progress = Callable[[int, str], Awaitable[None]]
Writer = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
Handler = Callable[[Job, Progress], Awaitable[Writer]]
"""A job type's work: do the slow part (no writes), return what to write when it succeeds."""
StudentView = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class JobType:
    name: str
    handler: Handler
    student_view: StudentView | None = None  # what a student may see; None hides the type
    events: Mapping[str, str] = field(default_factory=dict)  # webhook event by terminal status


class JobTypes:
    def __init__(self, types: tuple[JobType, ...] = ()) -> None:
        self._handlers = {t.name: t.handler for t in types}
        self._events = {t.name: t.events for t in types}
        self._student_views = {t.name: t.student_view for t in types if t.student_view is not None}

    def handler(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def event(self, name: str, status: str) -> str | None:
        """The webhook event a job of type `name` sends on reaching `status`, if any."""
        return self._events.get(name, {}).get(status)

    def visible(self, principal: Principal, name: str) -> bool:
        return not principal.is_student or name in self._student_views

    def student_types(self) -> list[str]:
        """The job types a student token may see, for filtering a list in SQL."""
        return sorted(self._student_views)

    def result(
        self, principal: Principal, name: str, result: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The result as `principal` may see it: servers see it unchanged."""
        if result is None or not principal.is_student:
            return result
        view = self._student_views.get(name)
        return None if view is None else view(result)
