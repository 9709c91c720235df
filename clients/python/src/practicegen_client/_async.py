"""`AsyncClient`: the service's endpoints, one coroutine each, over `HttpCore`'s retries.

Each method sends one request and returns the typed view of its answer; following a job is
`JobHandle`'s. `Client` (the blocking twin) is derived from these methods, so an endpoint is
written once, here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Self

from practicegen_client._batches import BatchHandle
from practicegen_client._http import HttpCore, IdOf, id_of
from practicegen_client._jobs import JobHandle
from practicegen_client.models import (
    AnswerResult,
    Assignment,
    AssignmentSummary,
    BatchAccepted,
    Catalog,
    ClassReport,
    Goal,
    ImportReport,
    Item,
    Job,
    JobAccepted,
    Mastery,
    SchoolClass,
    Student,
    StudentToken,
)


class AsyncClient(HttpCore):
    """An asyncio client for the practicegen API (the arguments are `HttpCore`'s)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- catalogue, students, goals, items -----------------------------------------------

    async def catalog(self) -> Catalog:
        """Subjects -> topics -> skills, with the bank's counts and what generates each."""
        return Catalog.model_validate(await self._data("GET", "/api/v1/catalog"))

    async def create_student(
        self,
        *,
        display_name: str | None = None,
        external_id: str | None = None,
        grade_level: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Student:
        body = _without_none(
            display_name=display_name,
            external_id=external_id,
            grade_level=grade_level,
            metadata=dict(metadata) if metadata is not None else None,
        )
        return Student.model_validate(await self._data("POST", "/api/v1/students", json_body=body))

    async def get_student(self, student_id: IdOf) -> Student:
        return Student.model_validate(
            await self._data("GET", f"/api/v1/students/{id_of(student_id)}")
        )

    async def create_goal(
        self, *, name: str, subject: str, skills: Sequence[str], description: str | None = None
    ) -> Goal:
        body = _without_none(
            name=name, subject=subject, skills=list(skills), description=description
        )
        return Goal.model_validate(await self._data("POST", "/api/v1/goals", json_body=body))

    async def create_item(
        self,
        *,
        subject: str,
        topic: str,
        skill: str,
        type: str,
        stem: str,
        answer: str,
        answer_policy: str,
        tolerance: float | None = None,
        choices: Sequence[Mapping[str, Any]] = (),
        hints: Sequence[str] = (),
        solution: str | None = None,
        difficulty: float = 0.0,
        source: str | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> Item:
        """Add one item to the bank (fields as in the README's item bank format)."""
        body = _without_none(
            subject=subject,
            topic=topic,
            skill=skill,
            type=type,
            stem=stem,
            answer=answer,
            answer_policy=answer_policy,
            tolerance=tolerance,
            choices=[dict(c) for c in choices],
            hints=list(hints),
            solution=solution,
            difficulty=difficulty,
            source=source,
            provenance=dict(provenance) if provenance is not None else None,
        )
        return Item.model_validate(await self._data("POST", "/api/v1/items", json_body=body))

    async def import_items(
        self, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> ImportReport:
        """Import a `practicegen-bank` document (or a plain list of items, wrapped for you)."""
        if isinstance(document, Mapping):
            body: dict[str, Any] = dict(document)
        else:
            body = {
                "format": "practicegen-bank",
                "version": 1,
                "items": [dict(i) for i in document],
            }
        return ImportReport.model_validate(
            await self._data("POST", "/api/v1/items/import", json_body=body)
        )

    # -- practice ---------------------------------------------------------------------------

    async def assign(
        self,
        student_id: IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[IdOf] = (),
        *,
        wait_timeout: float | None = None,
    ) -> Assignment:
        """Assign practice now (`POST /api/v1/practice/assign`) and return the assignment.

        When the work runs over the service's time budget, the service answers 202 with a job
        instead; this method then waits for that job (as `JobHandle.wait(wait_timeout)` does)
        and returns its assignment, so the caller always gets an `Assignment`.
        """
        body = _assign_body(student_id, subject, num_items, topic, goal_tags)
        response = await self._request("POST", "/api/v1/practice/assign", json_body=body)
        if response.status_code == 202:
            accepted = JobAccepted.model_validate(response.json())
            return await JobHandle(self, accepted.job_id, accepted).wait(wait_timeout)
        return Assignment.model_validate(response.json()["data"])

    async def assign_async(
        self,
        student_id: IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[IdOf] = (),
        *,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> JobHandle:
        """Start a practice generation job (`POST /api/v1/practice/assign/async`).

        The request is checked before the job exists (a bad subject raises ValidationError
        here). An `Idempotency-Key` is sent (a random one unless given), so a retry after a
        lost answer never starts a second job.
        """
        body = _assign_body(student_id, subject, num_items, topic, goal_tags)
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        key = idempotency_key or uuid.uuid4().hex
        response = await self._request(
            "POST",
            "/api/v1/practice/assign/async",
            json_body=body,
            headers={"Idempotency-Key": key},
        )
        accepted = JobAccepted.model_validate(response.json())
        handle = JobHandle(self, accepted.job_id, accepted)
        handle.replayed = response.headers.get("idempotent-replayed") == "true"
        return handle

    def job(self, job_id: IdOf) -> JobHandle:
        """A handle on an existing job, e.g. one whose id you stored."""
        return JobHandle(self, uuid.UUID(str(job_id)))

    async def get_job(self, job_id: IdOf) -> Job:
        return Job.model_validate(await self._data("GET", f"/api/v1/jobs/{id_of(job_id)}"))

    async def get_assignment(self, assignment_id: IdOf) -> Assignment:
        path = f"/api/v1/assignments/{id_of(assignment_id)}"
        return Assignment.model_validate(await self._data("GET", path))

    async def answer(self, assignment_id: IdOf, position: int, answer: str) -> AnswerResult:
        """Grade one answer to the item at `position` (1-based) of an assignment."""
        path = f"/api/v1/assignments/{id_of(assignment_id)}/responses"
        body = {"position": position, "answer": answer}
        return AnswerResult.model_validate(await self._data("POST", path, json_body=body))

    async def mint_student_token(self, student_id: IdOf, ttl_s: int | None = None) -> StudentToken:
        """A short-lived token for one student, to hand to a browser."""
        body = _without_none(student_id=id_of(student_id), ttl_s=ttl_s)
        return StudentToken.model_validate(
            await self._data("POST", "/api/v1/tokens", json_body=body)
        )

    async def revoke_student_token(self, token_id: IdOf) -> None:
        """Refuse a student token from now on (on every node within the service's key cache
        time); revoking a revoked token again is no error."""
        await self._data("DELETE", f"/api/v1/tokens/{id_of(token_id)}")

    # -- classes, batches, reports -----------------------------------------------------------

    async def create_class(
        self, name: str, *, student_ids: Sequence[IdOf] = (), external_ids: Sequence[str] = ()
    ) -> SchoolClass:
        body = {"name": name, **_students(student_ids, external_ids)}
        return SchoolClass.model_validate(
            await self._data("POST", "/api/v1/classes", json_body=body)
        )

    async def get_class(self, class_id: IdOf) -> SchoolClass:
        return SchoolClass.model_validate(
            await self._data("GET", f"/api/v1/classes/{id_of(class_id)}")
        )

    async def add_to_class(
        self, class_id: IdOf, *, student_ids: Sequence[IdOf] = (), external_ids: Sequence[str] = ()
    ) -> SchoolClass:
        """Add students by id or by your `external_id`; those already in the class stay."""
        path = f"/api/v1/classes/{id_of(class_id)}/students"
        body = _students(student_ids, external_ids)
        return SchoolClass.model_validate(await self._data("POST", path, json_body=body))

    async def remove_from_class(self, class_id: IdOf, student_id: IdOf) -> SchoolClass:
        path = f"/api/v1/classes/{id_of(class_id)}/students/{id_of(student_id)}"
        return SchoolClass.model_validate(await self._data("DELETE", path))

    async def class_students(self, class_id: IdOf) -> list[Student]:
        """The class's whole roster, by name."""
        page = await self._data("GET", f"/api/v1/classes/{id_of(class_id)}/students")
        return [Student.model_validate(s) for s in page["items"]]

    async def class_report(self, class_id: IdOf) -> ClassReport:
        """The class's students by skills: where each stands."""
        path = f"/api/v1/classes/{id_of(class_id)}/report"
        return ClassReport.model_validate(await self._data("GET", path))

    async def mastery(self, student_id: IdOf) -> Mastery:
        path = f"/api/v1/students/{id_of(student_id)}/mastery"
        return Mastery.model_validate(await self._data("GET", path))

    async def student_assignments(
        self, student_id: IdOf, *, limit: int = 50
    ) -> list[AssignmentSummary]:
        """The student's latest assignments (the first page, up to `limit`), newest first,
        with their scores; `iter_student_assignments` reads them all."""
        path = f"/api/v1/students/{id_of(student_id)}/assignments"
        page = await self._data("GET", path, params={"limit": limit})
        return [AssignmentSummary.model_validate(a) for a in page["items"]]

    async def iter_student_assignments(
        self, student_id: IdOf, *, page_size: int = 50
    ) -> AsyncGenerator[AssignmentSummary, None]:
        """Every assignment of the student, newest first: a page of `page_size` is read when
        the loop reaches it, following the list's `next_cursor`."""
        path = f"/api/v1/students/{id_of(student_id)}/assignments"
        params: dict[str, Any] = {"limit": page_size}
        while True:
            page = await self._data("GET", path, params=params)
            for summary in page["items"]:
                yield AssignmentSummary.model_validate(summary)
            if not page.get("next_cursor"):
                return
            params = {"limit": page_size, "cursor": page["next_cursor"]}

    async def assign_class_async(
        self,
        class_id: IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[IdOf] = (),
        *,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> BatchHandle:
        """Start one practice job per student of the class, under one batch (an
        `Idempotency-Key` is sent, a random one unless given)."""
        body = _assign_body(None, subject, num_items, topic, goal_tags)
        path = f"/api/v1/classes/{id_of(class_id)}/assign/async"
        return await self._start_batch(path, body, webhook_url, idempotency_key)

    async def assign_students_async(
        self,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[IdOf] = (),
        *,
        student_ids: Sequence[IdOf] = (),
        external_ids: Sequence[str] = (),
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> BatchHandle:
        """Start one practice job per student named, under one batch."""
        body = {
            **_assign_body(None, subject, num_items, topic, goal_tags),
            **_students(student_ids, external_ids),
        }
        return await self._start_batch("/api/v1/batches", body, webhook_url, idempotency_key)

    async def _start_batch(
        self,
        path: str,
        body: dict[str, Any],
        webhook_url: str | None,
        idempotency_key: str | None,
    ) -> BatchHandle:
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        key = idempotency_key or uuid.uuid4().hex
        response = await self._request(
            "POST", path, json_body=body, headers={"Idempotency-Key": key}
        )
        accepted = BatchAccepted.model_validate(response.json())
        handle = BatchHandle(self, accepted.batch_id, accepted)
        handle.replayed = response.headers.get("idempotent-replayed") == "true"
        return handle

    def batch(self, batch_id: IdOf) -> BatchHandle:
        """A handle on an existing batch, e.g. one whose id you stored."""
        return BatchHandle(self, uuid.UUID(str(batch_id)))


def _students(student_ids: Sequence[IdOf], external_ids: Sequence[str]) -> dict[str, Any]:
    return {"student_ids": [id_of(s) for s in student_ids], "external_ids": list(external_ids)}


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _assign_body(
    student_id: IdOf | None,
    subject: str,
    num_items: int,
    topic: str | None,
    goal_tags: Sequence[IdOf],
) -> dict[str, Any]:
    return _without_none(
        student_id=None if student_id is None else id_of(student_id),
        subject=subject,
        num_items=num_items,
        topic=topic,
        goal_tags=[id_of(g) for g in goal_tags],
    )
