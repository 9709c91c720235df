"""The Python client against a real server, on both backends, with an in-process worker.

Covers: `assign_async(...).wait()`, `events()` ordering, the WebSocket -> SSE -> long-poll
fallback, typed errors, 429 retries (honouring Retry-After) and their exhaustion, a sync assign
that the service turns into a job, and the blocking `Client`. A few checks need no server: 5xx
backoff against a mock transport, and the client's webhook check against the service's
signatures.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen_client import (
    AnswerResult,
    AssignedItem,
    Assignment,
    AsyncClient,
    Catalog,
    Client,
    CompletedMessage,
    ConflictError,
    Goal,
    InvalidSignature,
    Item,
    Job,
    JobAccepted,
    JobCancelledError,
    JobStatus,
    JobWaitTimeout,
    NotFoundError,
    RateLimitedError,
    ServerError,
    StatusMessage,
    Student,
    StudentToken,
    ValidationError,
    verify_webhook,
)
from tests.api.factories import choice_item_body, item_body
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import RunningServer, running_server

FAST_JOBS: dict[str, Any] = {"run_worker": True, "job_heartbeat_s": 0.2}


def bank_rows() -> list[dict[str, Any]]:
    rows = [
        item_body(
            skill=skill,
            stem=f"Solve ${k + 2}x = {(k + 2) * (k + 3)}$ ({skill}).",
            answer=f"x = {k + 3}",
            difficulty=shift + 0.3 * k,
        )
        for skill, shift in (("linear_equations.one_step", -1.0), ("linear_equations.two_step", 0))
        for k in range(6)
    ]
    rows.append(choice_item_body())
    return rows


@pytest.fixture
async def sdk_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(database_url, **FAST_JOBS)
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def sdk(sdk_server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(sdk_server.base_url, ADMIN_KEY) as client:
        report = await client.import_items(bank_rows())
        assert report.imported == 13 and report.rejected == []
        yield client


@pytest.fixture
async def student(sdk: AsyncClient) -> uuid.UUID:
    return (await sdk.create_student(display_name="Ada")).student_id


class NoEventStreams(httpx.AsyncHTTPTransport):
    """Refuses every Server-Sent Events request, as a proxy that strips them might."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            self.refused += 1
            raise httpx.ConnectError("event streams blocked", request=request)
        return await super().handle_async_request(request)


def assert_completed(assignment: Assignment, num_items: int) -> None:
    assert isinstance(assignment, Assignment) and len(assignment.items) == num_items
    assert all(isinstance(item, AssignedItem) for item in assignment.items)


async def test_assign_async_wait_returns_the_completed_assignment(
    sdk: AsyncClient, student: uuid.UUID
) -> None:
    job = await sdk.assign_async(student, "Algebra", 3, topic="Linear Equations")
    assert isinstance(job.accepted, JobAccepted) and job.accepted.status is JobStatus.PENDING
    assignment = await job.wait(timeout=30)
    assert_completed(assignment, 3)
    assert job.transport == "websocket" and assignment.student_id == student
    status = await job.status()
    assert isinstance(status, Job) and status.status is JobStatus.COMPLETED
    assert status.progress_percent == 100
    assert await sdk.get_assignment(assignment.assignment_id) == assignment
    graded = await sdk.answer(assignment.assignment_id, 1, "x = 1000")
    assert isinstance(graded, AnswerResult) and graded.correct is False and graded.position == 1
    # the idempotency key: the same key and body give the same job back
    first = await sdk.assign_async(student, "Algebra", 2, idempotency_key="order-7")
    again = await sdk.assign_async(student, "Algebra", 2, idempotency_key="order-7")
    assert again.job_id == first.job_id and again.replayed and not first.replayed
    assert_completed(await again.wait(timeout=30), 2)
    with pytest.raises(ConflictError) as refused:
        await again.cancel()
    assert refused.value.code == "job_not_cancellable"


async def test_events_are_monotonic_and_end_completed(sdk: AsyncClient, student: uuid.UUID) -> None:
    job = await sdk.assign_async(student, "Algebra", 5)
    messages = [m async for m in job.events()]
    seqs = [m.seq for m in messages]
    assert seqs == sorted(set(seqs)), seqs
    progress = [m.progress_percent for m in messages if isinstance(m, StatusMessage)]
    assert progress == sorted(progress)
    assert all(isinstance(m, StatusMessage) for m in messages[:-1])
    last = messages[-1]
    assert isinstance(last, CompletedMessage)
    assert_completed(last.assignment(), 5)
    # a finished job: just its terminal message
    assert [m.type for m in [m async for m in job.events()]] == ["completed"]


async def test_falls_back_to_sse_then_to_long_polling(
    sdk_server: RunningServer, sdk: AsyncClient, student: uuid.UUID
) -> None:
    wrong_ws = sdk_server.base_url.replace("http://", "ws://") + "/no-such-prefix"
    async with AsyncClient(sdk_server.base_url, ADMIN_KEY, websocket_url=wrong_ws) as client:
        job = await client.assign_async(student, "Algebra", 2)
        assert_completed(await job.wait(timeout=30), 2)
        assert job.transport == "sse"
    blocked = NoEventStreams()
    async with AsyncClient(
        sdk_server.base_url, ADMIN_KEY, websocket_url=wrong_ws, transport=blocked, max_retries=0
    ) as client:
        job = await client.assign_async(student, "Algebra", 4)
        messages = [m async for m in job.events()]
        assert job.transport == "poll" and blocked.refused == 1
        assert isinstance(messages[-1], CompletedMessage)
        assert [m.seq for m in messages] == sorted({m.seq for m in messages})
        assert_completed(messages[-1].assignment(), 4)
    # with nothing but long-polling, and a job that does not exist: the typed error
    async with AsyncClient(sdk_server.base_url, ADMIN_KEY, stream_transports=["poll"]) as client:
        with pytest.raises(NotFoundError) as missing:
            await client.job(uuid.uuid4()).wait(timeout=10)
        assert missing.value.code == "job_not_found"
    # a WebSocket the service closes with 4404: the typed error at once, no other transport
    async with AsyncClient(
        sdk_server.base_url, ADMIN_KEY, stream_transports=["websocket"]
    ) as client:
        with pytest.raises(NotFoundError) as by_socket:
            await client.job(uuid.uuid4()).wait(timeout=10)
        assert by_socket.value.status == 404 and by_socket.value.code == "job_not_found"


async def test_typed_errors_and_plain_resources(sdk: AsyncClient, student: uuid.UUID) -> None:
    with pytest.raises(NotFoundError) as missing:
        await sdk.get_student(uuid.uuid4())
    assert missing.value.status == 404 and missing.value.code == "student_not_found"
    with pytest.raises(NotFoundError) as no_job:
        await sdk.job(uuid.uuid4()).wait(timeout=10)  # the SSE answer's 404 is about the job
    assert no_job.value.code == "job_not_found"
    with pytest.raises(ValidationError) as unknown:
        await sdk.assign(student, "Alchemy", 3)
    assert unknown.value.status == 422 and unknown.value.code == "unknown_subject"
    with pytest.raises(ValidationError) as invalid:
        await sdk.create_goal(name="Bad", subject="Algebra", skills=["Not A Skill"])
    assert invalid.value.code == "validation_error" and invalid.value.details["errors"]
    fetched = await sdk.get_student(student)
    assert isinstance(fetched, Student) and fetched.display_name == "Ada"
    goal = await sdk.create_goal(
        name="Linear", subject="Algebra", skills=["linear_equations.two_step"]
    )
    assert isinstance(goal, Goal)
    item = await sdk.create_item(**item_body(stem="Solve $5x = 35$.", answer="x = 7"))
    assert isinstance(item, Item) and item.status == "active"
    catalog = await sdk.catalog()
    assert isinstance(catalog, Catalog) and catalog.model_configured is False
    algebra = next(s for s in catalog.subjects if s.name == "Algebra")
    linear = next(t for t in algebra.topics if t.name == "Linear Equations")
    assert linear.item_count == 13 and linear.generation == "offline"
    token = await sdk.mint_student_token(student, ttl_s=120)
    assert isinstance(token, StudentToken) and token.student_id == student
    assignment = await sdk.assign(student, "Algebra", 2, goal_tags=[goal.goal_id])
    assert_completed(assignment, 2)
    assert {i.skill for i in assignment.items} == {"linear_equations.two_step"}
    async with AsyncClient(sdk.base_url, token.token) as as_student:
        own = await as_student.get_assignment(assignment.assignment_id)
        assert all(i.answer is None for i in own.items)  # no keys for a student token


@pytest.fixture
async def tight_server(database_url: str) -> AsyncIterator[RunningServer]:
    """One job in flight at most, and no worker: a started job stays in flight."""
    settings = make_settings(database_url, job_max_in_flight=1, run_worker=False)
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


async def test_rate_limits_are_retried_after_retry_after_then_raised(
    tight_server: RunningServer,
) -> None:
    async with AsyncClient(tight_server.base_url, ADMIN_KEY) as client:
        await client.import_items(bank_rows())
        student = (await client.create_student()).student_id
        first = await client.assign_async(student, "Algebra", 2)
        slept: list[float] = []

        async def no_sleep(delay: float) -> None:
            slept.append(delay)

        client._sleep = no_sleep
        with pytest.raises(RateLimitedError) as limited:
            await client.assign_async(student, "Algebra", 2)
        assert limited.value.code == "too_many_jobs" and limited.value.retry_after == 5
        assert slept == [5.0, 5.0, 5.0]  # max_retries=3, each after the service's Retry-After
        slept.clear()
        with pytest.raises(ValidationError):  # other 4xx: never retried
            await client.assign_async(student, "Alchemy", 2)
        assert slept == []

        async def free_the_slot(delay: float) -> None:
            slept.append(delay)
            assert (await first.cancel()).status is JobStatus.CANCELLED

        client._sleep = free_the_slot
        second = await client.assign_async(student, "Algebra", 2)
        assert slept == [5.0]
        assert (await second.status()).status is JobStatus.PENDING
        with pytest.raises(JobCancelledError):
            await first.wait(timeout=10)
        started = time.monotonic()
        with pytest.raises(JobWaitTimeout):  # no worker: the job stays pending
            await second.wait(timeout=1)
        assert time.monotonic() - started < 5


@pytest.fixture
async def over_budget_server(database_url: str) -> AsyncIterator[RunningServer]:
    """A sync budget every assign runs over, so the sync endpoint always answers 202."""
    settings = make_settings(database_url, sync_budget_s=1e-6, **FAST_JOBS)
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


async def test_over_budget_assign_and_the_sync_client(over_budget_server: RunningServer) -> None:
    base = over_budget_server.base_url
    async with AsyncClient(base, ADMIN_KEY) as client:
        await client.import_items(bank_rows())
        student = (await client.create_student()).student_id
        # the service answers 202 with a job; assign() waits for it and returns the assignment
        assert_completed(await client.assign(student, "Algebra", 3, wait_timeout=30), 3)

    def blocking() -> None:
        with Client(base, ADMIN_KEY) as sync:
            bo = sync.create_student(display_name="Bo").student_id
            assert sync.get_student(bo).display_name == "Bo"
            assert "Geometry" in {subject.name for subject in sync.catalog().subjects}
            assert_completed(sync.assign(bo, "Algebra", 2, wait_timeout=30), 2)
            job = sync.assign_async(bo, "Algebra", 3)
            assert_completed(job.wait(timeout=30), 3)
            assert job.transport == "websocket" and job.status().status is JobStatus.COMPLETED
            assert [m.type for m in job.events()] == ["completed"]
            with pytest.raises(NotFoundError):
                sync.get_student(uuid.uuid4())

    await asyncio.wait_for(asyncio.to_thread(blocking), 60)


def test_server_errors_back_off_with_jitter_and_then_raise() -> None:
    answers = [503, 502, 200, 500, 500, 500, 404]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status = answers.pop(0)
        if status == 200:
            return httpx.Response(200, json={"success": True, "data": {"ok": 1}})
        code = "student_not_found" if status == 404 else "internal_error"
        return httpx.Response(status, json={"error": {"code": code, "message": "m"}})

    async def scenario() -> None:
        slept: list[float] = []

        async def no_sleep(delay: float) -> None:
            slept.append(delay)

        client = AsyncClient(
            "http://svc", "k", transport=httpx.MockTransport(handler), max_retries=2
        )
        client._sleep = no_sleep
        assert await client._data("GET", "/a") == {"ok": 1}
        assert 0.25 <= slept[0] <= 0.5 and 0.5 <= slept[1] <= 1.0  # base 0.5 s, doubling
        with pytest.raises(ServerError) as failed:
            await client._data("GET", "/b")
        assert failed.value.status == 500 and failed.value.code == "internal_error"
        slept.clear()
        with pytest.raises(NotFoundError):
            await client._data("GET", "/c")
        assert slept == [] and seen == ["/a"] * 3 + ["/b"] * 3 + ["/c"]
        await client.aclose()

    asyncio.run(scenario())


async def test_a_closed_kept_alive_connection_resends_a_get_but_never_a_post() -> None:
    """A real socket: each first request on a connection is read and the connection closed
    unanswered, as a server ending an idle connection does; the next connection is answered."""
    requests: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        requests.append(head.split(" ", 1)[0])
        length = next(
            (
                int(h.split(":")[1])
                for h in head.split("\r\n")
                if h.lower().startswith("content-length")
            ),
            0,
        )
        await reader.readexactly(length)
        if len(requests) % 2:  # closed unanswered
            writer.close()
            return
        body = b'{"success": true, "data": {"ok": 1}}'
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = AsyncClient(f"http://127.0.0.1:{port}", "k", max_retries=2)
        assert await client._data("GET", "/api/v1/students/x") == {"ok": 1}
        assert requests == ["GET", "GET"]
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await client._data("POST", "/api/v1/students", json_body={"display_name": "A"})
        assert requests == ["GET", "GET", "POST"]  # not sent a second time
        await client.aclose()


def test_verify_webhook_is_the_service_check() -> None:
    from practicegen.webhooks.signing import headers, new_secret

    secret, old, body = new_secret(), new_secret(), b'{"type": "job.completed"}'
    signed = headers([old, secret], "msg_1", int(time.time()), body)  # during a rotation
    verify_webhook(signed, body, secret)
    verify_webhook(signed, body, old)
    with pytest.raises(InvalidSignature):
        verify_webhook(signed, body + b" ", secret)
    with pytest.raises(InvalidSignature):
        verify_webhook(signed, body, new_secret())
    stale = headers([secret], "msg_2", int(time.time()) - 600, body)
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify_webhook(stale, body, secret)
