"""Job types, registered by the packages that own them: the one place a job type is named.

The job system runs, shows and reports jobs of any type: it asks this registry for a type's
handler (the worker), its webhook event for each terminal status (the webhook hook), and its
result as a student may see it (every exit that shows a job: HTTP get and list, the event
stream, the WebSocket). `app.py` registers each package's types at start-up, so nothing in
`jobs/` knows a type. A job's result is stored in full (a server key that started the job, and
its webhook, see the answer keys); a type registered without a student view, or not registered,
is invisible to student tokens.
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
    """What a package tells the job system about one of its job types.

    `student_view`: the result without what a student must not see; None hides the type from
    students altogether. `events`: the webhook event sent when a job of this type reaches each
    terminal status (`completed`, `failed`, `cancelled`); empty, its jobs send no webhook.
    """

    name: str
    handler: Handler
    student_view: StudentView | None = None
    events: Mapping[str, str] = field(default_factory=dict)


class JobTypes:
    """Every registered job type, by name."""

    def __init__(self, types: tuple[JobType, ...] = ()) -> None:
        self._types: dict[str, JobType] = {}
        for job_type in types:
            self.register(job_type)

    def register(self, job_type: JobType) -> None:
        self._types[job_type.name] = job_type

    def handler(self, name: str) -> Handler | None:
        job_type = self._types.get(name)
        return None if job_type is None else job_type.handler

    def event(self, name: str, status: str) -> str | None:
        """The webhook event a job of type `name` sends on reaching `status`, if any."""
        job_type = self._types.get(name)
        return None if job_type is None else job_type.events.get(status)

    def visible(self, principal: Principal, name: str) -> bool:
        if not principal.is_student:
            return True
        job_type = self._types.get(name)
        return job_type is not None and job_type.student_view is not None

    def student_types(self) -> list[str]:
        """The job types a student token may see, for filtering a list in SQL."""
        return sorted(t.name for t in self._types.values() if t.student_view is not None)

    def result(
        self, principal: Principal, name: str, result: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The result as `principal` may see it: servers see it unchanged."""
        if result is None or not principal.is_student:
            return result
        job_type = self._types.get(name)
        view = None if job_type is None else job_type.student_view
        return None if view is None else view(result)
