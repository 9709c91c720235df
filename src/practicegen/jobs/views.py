"""What a reader sees of a job: shaped by the reader's role, whoever created the job.

A job's result is stored in full (a server key that started the job, and its webhook, see the
answer keys). Every exit that shows a job to a caller (HTTP get and list, the event stream, the
WebSocket) asks `JobViews` first whether the caller may see the job at all, then for the result
as that caller may see it. Job types register their student view here, as they register their
handler with the worker, so this module knows no job type: a type registered without a student
view, or not registered, is invisible to student tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from practicegen.auth.principal import Principal

StudentView = Callable[[dict[str, Any]], dict[str, Any]]


class JobViews:
    """Each job type's result as a student may see it; servers see results unchanged."""

    def __init__(self) -> None:
        self._student_views: dict[str, StudentView] = {}

    def register(self, job_type: str, *, student: StudentView | None) -> None:
        """`student`: the result without what a student must not see; None hides the type
        from students altogether."""
        if student is None:
            self._student_views.pop(job_type, None)
        else:
            self._student_views[job_type] = student

    def visible(self, principal: Principal, job_type: str) -> bool:
        return not principal.is_student or job_type in self._student_views

    def student_types(self) -> list[str]:
        """The job types a student token may see, for filtering a list in SQL."""
        return sorted(self._student_views)

    def result(
        self, principal: Principal, job_type: str, result: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if result is None or not principal.is_student:
            return result
        view = self._student_views.get(job_type)
        return None if view is None else view(result)
