"""The Python client's classes, batches and reports against a real server, on both backends,
async and blocking."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from practicegen_client import (
    AsyncClient,
    Batch,
    BatchHandle,
    ClassReport,
    Client,
    JobStatus,
    Mastery,
    NotFoundError,
    SchoolClass,
    Student,
)
from tests.client.test_client import sdk, sdk_server  # noqa: F401 (fixtures)
from tests.conftest import ADMIN_KEY
from tests.support.server import RunningServer


async def test_a_class_assigned_and_reported_through_the_client(sdk: AsyncClient) -> None:  # noqa: F811
    ada = await sdk.create_student(display_name="Ada", external_id="sis-1")
    bo = await sdk.create_student(display_name="Bo")
    made = await sdk.create_class("7B", external_ids=["sis-1"])
    assert isinstance(made, SchoolClass) and made.student_count == 1
    grown = await sdk.add_to_class(made.class_id, student_ids=[bo.student_id])
    assert grown.student_count == 2 and (await sdk.get_class(made.class_id)) == grown
    roster = await sdk.class_students(made.class_id)
    assert [s.display_name for s in roster] == ["Ada", "Bo"] and isinstance(roster[0], Student)

    batch = await sdk.assign_class_async(made.class_id, "Algebra", 2, topic="Linear Equations")
    assert isinstance(batch, BatchHandle) and batch.accepted is not None
    assert {j.student_id for j in batch.accepted.jobs} == {ada.student_id, bo.student_id}
    done = await batch.wait(timeout=60)
    assert isinstance(done, Batch) and done.status is JobStatus.COMPLETED
    assert done.counts[JobStatus.COMPLETED] == 2
    first = batch.student_jobs()[0]
    assignment = await first.wait(timeout=30)
    graded = await sdk.answer(assignment.assignment_id, 1, "x = 1000")
    assert graded.correct is False

    mastery = await sdk.mastery(assignment.student_id)
    assert isinstance(mastery, Mastery) and [s.answered for s in mastery.skills] == [1]
    report = await sdk.class_report(made.class_id)
    assert isinstance(report, ClassReport) and len(report.students) == 2
    assert report.skills == [mastery.skills[0].skill]
    summaries = await sdk.student_assignments(assignment.student_id)
    assert [(s.answered, s.correct) for s in summaries] == [(1, 0)]

    again = await sdk.assign_students_async(
        "Algebra", 1, student_ids=[bo.student_id], idempotency_key="monday"
    )
    replay = await sdk.assign_students_async(
        "Algebra", 1, student_ids=[bo.student_id], idempotency_key="monday"
    )
    assert replay.replayed and replay.batch_id == again.batch_id
    assert (await sdk.batch(again.batch_id).wait(timeout=60)).counts[JobStatus.COMPLETED] == 1
    left = await sdk.remove_from_class(made.class_id, ada.student_id)
    assert left.student_count == 1
    with pytest.raises(NotFoundError) as missing:
        await sdk.get_class(uuid.uuid4())
    assert missing.value.code == "class_not_found"


async def test_the_blocking_client_assigns_a_class(sdk_server: RunningServer) -> None:  # noqa: F811
    def blocking_run() -> Batch:
        with Client(sdk_server.base_url, ADMIN_KEY) as client:
            student = client.create_student(display_name="Cy")
            klass = client.create_class("8A", student_ids=[student.student_id])
            batch = client.assign_class_async(klass.class_id, "Algebra", 1)
            assert batch.accepted is not None and len(batch.student_jobs()) == 1
            return batch.wait(timeout=60)

    done = await asyncio.to_thread(blocking_run)
    assert done.status is JobStatus.COMPLETED and done.counts[JobStatus.COMPLETED] == 1


async def test_every_assignment_of_a_student_page_after_page(
    sdk: AsyncClient,  # noqa: F811
    sdk_server: RunningServer,  # noqa: F811
) -> None:
    student = await sdk.create_student(display_name="Di")
    made = [await sdk.assign(student.student_id, "Algebra", 1) for _ in range(5)]
    newest_first = [a.assignment_id for a in reversed(made)]
    first_page = await sdk.student_assignments(student.student_id, limit=2)
    assert [s.assignment_id for s in first_page] == newest_first[:2]  # one page only
    every = [s async for s in sdk.iter_student_assignments(student.student_id, page_size=2)]
    assert [s.assignment_id for s in every] == newest_first

    def blocking_run() -> list[uuid.UUID]:
        with Client(sdk_server.base_url, ADMIN_KEY) as client:
            pages = client.iter_student_assignments(student.student_id, page_size=3)
            return [s.assignment_id for s in pages]

    assert await asyncio.to_thread(blocking_run) == newest_first
