"""Views follow the reader: a job a server started for a student shows that student no keys.

Every exit a job's result leaves by is checked with the student's own token (HTTP get and list,
the event stream, the WebSocket, the Python client's `wait`), each against the server's view of
the same job, which keeps its keys. A student sees none of the webhook deliveries of its jobs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen.practice.tasks import for_student
from practicegen_client import AsyncClient, StreamTransport
from tests.api.test_errors import assert_error
from tests.api.test_jobs import wait_terminal
from tests.api.test_practice import new_student, seed_bank
from tests.api.test_streams import read_all, ws_url
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.receiver import Receiver, webhook_receiver
from tests.support.server import RunningServer, running_server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def views_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        database_url,
        run_worker=True,
        job_heartbeat_s=0.2,
        ssrf_allowlist="127.0.0.1",
        webhook_retry_schedule="0,0.2",
        webhook_timeout_s=2,
    )
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


@dataclass(frozen=True)
class StudentsJob:
    """A job a server key started for a student, finished, and the student's own token."""

    http: httpx.AsyncClient  # the server key's client
    job_id: str
    student_id: str
    token: str


async def mint_token(http: httpx.AsyncClient, student_id: str) -> str:
    minted = await http.post("/api/v1/tokens", json={"student_id": student_id})
    assert minted.status_code == 201, minted.text
    token: str = minted.json()["data"]["token"]
    return token


async def started_by_server(
    server: RunningServer, http: httpx.AsyncClient, webhook_url: str | None = None
) -> StudentsJob:
    await seed_bank(http)
    student = await new_student(http)
    body: dict[str, Any] = {"student_id": student, "subject": "Algebra", "num_items": 4}
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    created = await http.post("/api/v1/practice/assign/async", json=body)
    assert created.status_code == 202, created.text
    job_id: str = created.json()["job_id"]
    finished = await wait_terminal(http, job_id)
    assert finished["status"] == "completed", finished
    assert_has_keys(finished["result"])  # the server's view keeps them
    return StudentsJob(http, job_id, student, await mint_token(http, student))


@pytest.fixture
async def server_http(views_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=views_server.base_url, headers=bearer(ADMIN_KEY), timeout=30
    ) as http:
        yield http


@pytest.fixture
async def students_job(views_server: RunningServer, server_http: httpx.AsyncClient) -> StudentsJob:
    return await started_by_server(views_server, server_http)


def assert_has_keys(result: dict[str, Any]) -> None:
    items = result["items"]
    assert items and all(item["answer"] and item["solution"] for item in items), items


def assert_no_keys(result: dict[str, Any]) -> None:
    items = result["items"]
    assert items, result
    for item in items:
        assert item.get("answer") is None and item.get("solution") is None, item
        assert all(c.get("misconception") is None for c in item["choices"]), item
        assert item["stem"] and item["answer_policy"]  # the rest is shown
    assert "metadata" not in result


async def test_student_reads_no_keys_over_http_get(
    views_server: RunningServer, students_job: StudentsJob
) -> None:
    async with httpx.AsyncClient(base_url=views_server.base_url, timeout=30) as browser:
        got = await browser.get(
            f"/api/v1/jobs/{students_job.job_id}", headers=bearer(students_job.token)
        )
    assert got.status_code == 200, got.text
    assert_no_keys(got.json()["data"]["result"])
    # the stored result keeps the keys: the server still sees them
    again = await students_job.http.get(f"/api/v1/jobs/{students_job.job_id}")
    assert_has_keys(again.json()["data"]["result"])


async def test_student_reads_no_keys_over_http_list(
    views_server: RunningServer, students_job: StudentsJob
) -> None:
    async with httpx.AsyncClient(base_url=views_server.base_url, timeout=30) as browser:
        listed = await browser.get("/api/v1/jobs", headers=bearer(students_job.token))
    assert listed.status_code == 200, listed.text
    [job] = [j for j in listed.json()["data"]["items"] if j["job_id"] == students_job.job_id]
    assert_no_keys(job["result"])
    by_server = await students_job.http.get(
        "/api/v1/jobs", params={"student_id": students_job.student_id}
    )
    [job] = [j for j in by_server.json()["data"]["items"] if j["job_id"] == students_job.job_id]
    assert_has_keys(job["result"])


async def sse_events(
    base_url: str, path: str, headers: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30) as browser,
        browser.stream("GET", path, headers=headers) as response,
    ):
        assert response.status_code == 200
        block: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(("event:", "data:")):
                key, _, value = line.partition(": ")
                block[key] = value
            elif line == "" and block:
                events.append((block["event"], json.loads(block["data"])))
                block = {}
    return events


async def test_student_reads_no_keys_over_the_event_stream(
    views_server: RunningServer, students_job: StudentsJob
) -> None:
    path = f"/api/v1/jobs/{students_job.job_id}/events"
    events = await sse_events(views_server.base_url, path, bearer(students_job.token))
    assert [kind for kind, _ in events] == ["completed"]
    assert_no_keys(events[0][1]["result"])
    [(_, by_server)] = await sse_events(views_server.base_url, path, bearer(ADMIN_KEY))
    assert_has_keys(by_server["result"])


async def test_student_reads_no_keys_over_the_websocket(
    views_server: RunningServer, students_job: StudentsJob
) -> None:
    url = ws_url(views_server.base_url, students_job.job_id, token=students_job.token)
    messages, code = await read_all(url)
    assert [m["type"] for m in messages] == ["completed"] and code == 1000
    assert_no_keys(messages[0]["result"])
    url = ws_url(views_server.base_url, students_job.job_id)
    by_server, _ = await read_all(url, additional_headers=bearer(ADMIN_KEY))
    assert_has_keys(by_server[0]["result"])


async def test_python_client_waits_for_the_students_view(
    views_server: RunningServer, students_job: StudentsJob
) -> None:
    ways: tuple[tuple[StreamTransport], ...] = (("websocket",), ("sse",), ("poll",))
    for transports in ways:
        async with AsyncClient(
            views_server.base_url, token=students_job.token, stream_transports=transports
        ) as client:
            assignment = await client.job(students_job.job_id).wait(timeout=20)
        assert str(assignment.student_id) == students_job.student_id
        assert assignment.items
        assert all(i.answer is None and i.solution is None for i in assignment.items)
    async with AsyncClient(views_server.base_url, token=ADMIN_KEY) as client:
        assignment = await client.job(students_job.job_id).wait(timeout=20)
    assert all(i.answer is not None for i in assignment.items)


async def test_student_cannot_see_the_webhook_deliveries_of_its_jobs(
    views_server: RunningServer, server_http: httpx.AsyncClient
) -> None:
    receiver: Receiver
    async with webhook_receiver() as receiver:
        job = await started_by_server(views_server, server_http, webhook_url=receiver.url)
        await receiver.wait_for(1)
    listed = await server_http.get("/api/v1/jobs", params={"job_type": "webhook_delivery"})
    deliveries = [j for j in listed.json()["data"]["items"] if j["student_id"] == job.student_id]
    assert deliveries, listed.text  # the server sees the delivery, and it names the student
    delivery_id = deliveries[0]["job_id"]
    student = bearer(job.token)
    async with httpx.AsyncClient(base_url=views_server.base_url, timeout=30) as browser:
        mine = (await browser.get("/api/v1/jobs", headers=student)).json()["data"]["items"]
        assert [j["job_type"] for j in mine] == ["practice_generation"]
        only = await browser.get(
            "/api/v1/jobs", params={"job_type": "webhook_delivery"}, headers=student
        )
        assert only.json()["data"]["items"] == []
        for path in ("", "/events", "/webhook-deliveries"):
            refused = await browser.get(f"/api/v1/jobs/{delivery_id}{path}", headers=student)
            assert_error(refused, 404, "job_not_found")
        for action in ("cancel", "retry"):
            refused = await browser.post(f"/api/v1/jobs/{delivery_id}/{action}", headers=student)
            assert_error(refused, 404, "job_not_found")
        # the deliveries of its own job are a server's business
        own = await browser.get(f"/api/v1/jobs/{job.job_id}/webhook-deliveries", headers=student)
        assert_error(own, 403, "permission_denied")
    url = ws_url(views_server.base_url, delivery_id, token=job.token)
    messages, code = await read_all(url)
    assert messages == [] and code == 4404


async def test_event_stream_resumed_on_a_job_the_caller_cannot_see_is_404(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await seed_bank(client)
    theirs = await new_student(client)
    created = await client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": theirs, "subject": "Algebra", "num_items": 2},
    )
    job_id = created.json()["job_id"]
    token = bearer(await mint_token(client, await new_student(client)))
    for target, headers in ((job_id, token), (str(uuid.uuid4()), bearer(ADMIN_KEY))):
        for resume in ({}, {"Last-Event-ID": "1"}, {"Last-Event-ID": "0"}):
            refused = await anonymous.get(f"/api/v1/jobs/{target}/events", headers=headers | resume)
            assert_error(refused, 404, "job_not_found")
    # the owner may resume: a stream with nothing newer yet, not an error
    resume = {"Last-Event-ID": "1"}
    async with client.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=resume) as resumed:
        assert resumed.status_code == 200


def test_the_student_view_drops_every_key_and_keeps_the_stored_result() -> None:
    stored: dict[str, Any] = {
        "assignment_id": "a",
        "items": [
            {
                "stem": "What is $3 + 4 \\times 2$?",
                "answer": "B",
                "solution": "Multiply first.",
                "response": None,
                "choices": [
                    {"id": "A", "text": "14", "misconception": "left_to_right"},
                    {"id": "B", "text": "11", "misconception": None},
                ],
            },
            {"stem": "Solve.", "answer": "x = 4", "solution": "s", "response": {"correct": True}},
        ],
        "metadata": {"generation": {"rejected": 1}},
    }
    before = json.dumps(stored)
    shown = for_student(stored)
    assert json.dumps(stored) == before
    first, second = shown["items"]
    assert first["answer"] is None and first["solution"] is None
    assert [c["misconception"] for c in first["choices"]] == [None, None]
    assert [c["text"] for c in first["choices"]] == ["14", "11"]
    # as GET /api/v1/assignments/{id} shows a student: the solution once answered
    assert second["answer"] is None and second["solution"] == "s"
    assert "metadata" not in shown and shown["assignment_id"] == "a"


async def test_event_stream_resumed_on_an_expired_job_is_410(database_url: str) -> None:
    settings = make_settings(
        database_url, run_worker=True, job_heartbeat_s=0.2, job_retention_s=0.5
    )
    await prepare(settings)
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url, headers=bearer(ADMIN_KEY)) as http,
    ):
        await seed_bank(http)
        student = await new_student(http)
        body = {"student_id": student, "subject": "Algebra", "num_items": 2}
        job_id = (await http.post("/api/v1/practice/assign/async", json=body)).json()["job_id"]
        deadline = time.monotonic() + 20
        while (got := await http.get(f"/api/v1/jobs/{job_id}")).status_code == 200:
            assert time.monotonic() < deadline, got.text
            await asyncio.sleep(0.1)
        assert_error(got, 410, "job_expired")
        for resume in ({}, {"Last-Event-ID": "2"}):
            refused = await http.get(f"/api/v1/jobs/{job_id}/events", headers=resume)
            assert_error(refused, 410, "job_expired")
