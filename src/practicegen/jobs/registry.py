"""Job types, registered by the packages that own them: the one place a job type is named.

The job system runs, shows and reports jobs of any type by asking this registry for a type's
handler, its webhook event per terminal status, and its result as a student may see it; `app.py`
registers each package's types, so nothing in `jobs/` knows a type. A type without a student
view, or not registered, is invisible to student tokens.
"""

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
    """What a package tells the job system about one of its job types: `student_view`, the
    result without what a student must not see (None hides the type from students); `events`,
    the webhook event for each terminal status (none: its jobs send no webhook)."""

    name: str
    handler: Handler
    student_view: StudentView | None = None
    events: Mapping[str, str] = field(default_factory=dict)


class JobTypes:
    """Every registered job type, by name."""

    def __init__(self, types: tuple[JobType, ...] = ()) -> None:
        self._types = {job_type.name: job_type for job_type in types}

    def handler(self, name: str) -> Handler | None:
        job_type = self._types.get(name)
        return None if job_type is None else job_type.handler

    def event(self, name: str, status: str) -> str | None:
        """The webhook event a job of type `name` sends on reaching `status`, if any."""
        job_type = self._types.get(name)
        return None if job_type is None else job_type.events.get(status)

    def _student_view(self, name: str) -> StudentView | None:
        job_type = self._types.get(name)
        return None if job_type is None else job_type.student_view

    def visible(self, principal: Principal, name: str) -> bool:
        return not principal.is_student or self._student_view(name) is not None

    def student_types(self) -> list[str]:
        """The job types a student token may see, for filtering a list in SQL."""
        return sorted(t.name for t in self._types.values() if t.student_view is not None)

    def result(
        self, principal: Principal, name: str, result: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The result as `principal` may see it: servers see it unchanged."""
        if result is None or not principal.is_student:
            return result
        view = self._student_view(name)
        return None if view is None else view(result)
