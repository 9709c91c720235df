"""The guide's async assign and job status, on both backends, with an in-process worker."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import SAWarning

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.models import Item
from practicegen.items.repository import ItemRepository
from practicegen.jobs import endpoints
from tests.api.factories import item_body
from tests.api.test_errors import assert_error
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import RunningServer, running_server


@asynccontextmanager
async def admin_of(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A server on `settings` (prepared first), and an admin's client of it."""
    await prepare(settings)
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(
            base_url=running.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
        ) as http,
    ):
        yield http


@pytest.fixture
async def worker_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(database_url, run_worker=True, job_heartbeat_s=0.2)
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def jobs_client(worker_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=worker_server.base_url,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=30,
    ) as http:
        yield http


async def wait_terminal(
    client: httpx.AsyncClient, job_id: str, limit_s: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        data: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}?wait=5")).json()["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
    raise AssertionError(f"job {job_id} did not finish in {limit_s} s")


async def test_guide_async_flow_completes(jobs_client: httpx.AsyncClient) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    body = {
        "student_id": student,
        "subject": "Algebra",
        "num_items": 5,
        "topic": "Linear Equations",
    }
    response = await jobs_client.post("/api/v1/practice/assign/async", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["success"] is True and accepted["status"] == "pending"
    assert accepted["message"] == "Practice generation started. Use the job_id to check status."
    job_id = accepted["job_id"]
    assert accepted["status_url"] == f"/api/v1/jobs/{job_id}"
    assert accepted["websocket_url"] == f"/api/v1/jobs/{job_id}/ws"
    assert response.headers["location"] == accepted["status_url"]
    assert int(response.headers["retry-after"]) > 0
    data = await wait_terminal(jobs_client, job_id)
    assert data["status"] == "completed" and data["progress_percent"] == 100
    assert data["job_type"] == "practice_generation" and data["attempt"] == 1
    assert len(data["result"]["items"]) == 5 and data["expires_at"] is not None
    status = await jobs_client.get(f"/api/v1/jobs/{job_id}")
    assert status.headers["cache-control"] == "no-store"
    unchanged = await jobs_client.get(
        f"/api/v1/jobs/{job_id}", headers={"If-None-Match": status.headers["etag"]}
    )
    assert unchanged.status_code == 304
    listed = (await jobs_client.get("/api/v1/jobs", params={"status": "completed"})).json()
    assert [j["job_id"] for j in listed["data"]["items"]] == [job_id]
    metrics = (await jobs_client.get("/metrics")).text
    assert 'practicegen_jobs{job_type="practice_generation",status="completed"} 1.0' in metrics
    assert 'practicegen_job_attempts_finished_total{outcome="completed"} 1.0' in metrics
    assert "practicegen_queue_depth 0.0" in metrics


async def test_async_request_is_validated_before_a_job_exists(
    jobs_client: httpx.AsyncClient,
) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    url = "/api/v1/practice/assign/async"
    base = {"student_id": student, "subject": "Algebra"}
    assert_error(
        await jobs_client.post(url, json=base | {"num_items": 0}), 422, "num_items_out_of_range"
    )
    assert_error(
        await jobs_client.post(url, json=base | {"num_items": 3, "subject": "Alchemy"}),
        422,
        "unknown_subject",
    )
    assert_error(
        await jobs_client.post(url, json=base | {"num_items": 3, "webhook_url": "not a url"}),
        422,
        "validation_error",
    )
    assert (await jobs_client.get("/api/v1/jobs")).json()["data"]["items"] == []
    assert_error(await jobs_client.get(f"/api/v1/jobs/{uuid.uuid4()}"), 404, "job_not_found")


async def test_an_async_request_checked_against_kept_items_sees_the_bank_another_changed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Kept items are checked without reading the bank's version, the job's INSERT finding it
    still current; once another process has retired them, the request is checked again against
    the bank as it is and refused, as if the version had been read first."""
    rows = [
        item_body(subject="Chemistry", topic="Moles", skill="moles.count", stem=f"Moles {n}?")
        for n in range(3)
    ]
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    assert (await client.post("/api/v1/items/import", json=document)).status_code == 200
    url = "/api/v1/practice/assign/async"
    body = {"student_id": await new_student(client), "subject": "Chemistry", "num_items": 3}
    for _ in range(2):  # the first loads the subject's items, the second takes them as kept
        assert (await client.post(url, json=body)).status_code == 202
    engine = create_engine(settings)  # another process's: its commits reach none of the app's
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await ItemRepository(session).bump_bank_version(DEFAULT_TENANT_ID)
        assert (await client.post(url, json=body)).status_code == 202  # moved, yet still fits
        async with create_sessionmaker(engine)() as session, session.begin():
            retired = update(Item).where(Item.subject == "Chemistry").values(status="retired")
            await session.execute(retired)
            await ItemRepository(session).bump_bank_version(DEFAULT_TENANT_ID)
    finally:
        await engine.dispose()
    assert_error(await client.post(url, json=body), 422, "generation_unavailable")
    assert len((await client.get("/api/v1/jobs")).json()["data"]["items"]) == 3


async def test_idempotency_key_replays_and_refuses_a_different_body(
    jobs_client: httpx.AsyncClient,
) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    url = "/api/v1/practice/assign/async"
    body = {"student_id": student, "subject": "Algebra", "num_items": 2}
    key = {"Idempotency-Key": "order-42"}
    first = await jobs_client.post(url, json=body, headers=key)
    again = await jobs_client.post(url, json=body, headers=key)
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["job_id"] == first.json()["job_id"]
    assert_error(
        await jobs_client.post(url, json=body | {"num_items": 3}, headers=key),
        422,
        "idempotency_key_reused",
    )
    listed = (await jobs_client.get("/api/v1/jobs")).json()["data"]["items"]
    assert len(listed) == 1


async def test_cancel_then_retry(
    jobs_client: httpx.AsyncClient, worker_server: RunningServer
) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    created = await jobs_client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": student, "subject": "Algebra", "num_items": 2},
    )
    job_id = created.json()["job_id"]
    cancel = await jobs_client.post(f"/api/v1/jobs/{job_id}/cancel")
    if cancel.status_code == 200:
        assert cancel.json()["data"]["status"] == "cancelled"
        final = await wait_terminal(jobs_client, job_id)
        assert final["status"] == "cancelled"  # write-once: the worker cannot overwrite it
        retried = await jobs_client.post(f"/api/v1/jobs/{job_id}/retry")
        assert retried.status_code == 202 and retried.json()["data"]["status"] == "pending"
        assert (await wait_terminal(jobs_client, job_id))["status"] == "completed"
    else:  # it finished first: exactly one terminal state either way
        assert_error(cancel, 409, "job_not_cancellable")
        assert (await wait_terminal(jobs_client, job_id))["status"] == "completed"
    assert_error(await jobs_client.post(f"/api/v1/jobs/{job_id}/retry"), 409, "job_not_retryable")


async def test_long_poll_waits_for_a_change(jobs_client: httpx.AsyncClient) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    created = await jobs_client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": student, "subject": "Algebra", "num_items": 2},
    )
    data = await wait_terminal(jobs_client, created.json()["job_id"])
    started = time.monotonic()
    finished = await jobs_client.get(f"/api/v1/jobs/{data['job_id']}?wait=10")
    assert time.monotonic() - started < 2  # a finished job answers at once
    assert finished.json()["data"]["seq"] == data["seq"]
    assert_error(
        await jobs_client.get(f"/api/v1/jobs/{data['job_id']}?wait=26"), 422, "validation_error"
    )


async def test_a_change_just_after_a_long_polls_read_answers_it_at_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The long-poll watches the job before reading it: a cancel committed between the read and
    the wait wakes it at once (no node polls for changes it missed)."""
    settings = make_settings(database_url, run_worker=False)
    read = endpoints.read_job
    cancels: list[httpx.Response] = []

    async def read_then_cancel(*args: Any) -> Any:
        job = await read(*args)
        if not cancels:  # only the long-poll's first read: the change lands right after it
            cancels.append(await client.post(f"/api/v1/jobs/{job.id}/cancel"))
        return job

    async with admin_of(settings) as client:
        await seed_bank(client)
        body = {"student_id": await new_student(client), "subject": "Algebra", "num_items": 2}
        job_id = (await client.post("/api/v1/practice/assign/async", json=body)).json()["job_id"]
        monkeypatch.setattr(endpoints, "read_job", read_then_cancel)
        started = time.monotonic()
        polled = await client.get(f"/api/v1/jobs/{job_id}?wait=20")
        assert time.monotonic() - started < 5
    assert cancels[0].status_code == 200, cancels[0].text
    assert polled.json()["data"]["status"] == "cancelled"


async def test_jobs_are_tenant_and_student_scoped(
    jobs_client: httpx.AsyncClient, worker_server: RunningServer
) -> None:
    from tests.api.test_auth import bearer, new_tenant_key

    await seed_bank(jobs_client)
    mine, theirs = await new_student(jobs_client), await new_student(jobs_client)
    created = await jobs_client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": theirs, "subject": "Algebra", "num_items": 2},
    )
    job_id = created.json()["job_id"]
    await wait_terminal(jobs_client, job_id)
    other = bearer(await new_tenant_key(jobs_client, worker_server.settings))
    token = await jobs_client.post("/api/v1/tokens", json={"student_id": mine})
    as_student = bearer(token.json()["data"]["token"])
    async with httpx.AsyncClient(base_url=worker_server.base_url) as anonymous:
        for headers in (other, as_student):
            assert_error(
                await anonymous.get(f"/api/v1/jobs/{job_id}", headers=headers), 404, "job_not_found"
            )
            assert_error(
                await anonymous.post(f"/api/v1/jobs/{job_id}/retry", headers=headers),
                404,
                "job_not_found",
            )
            listed = await anonymous.get("/api/v1/jobs", headers=headers)
            assert listed.json()["data"]["items"] == []
        assert_error(
            await anonymous.post(
                "/api/v1/practice/assign/async",
                headers=as_student,
                json={"student_id": theirs, "subject": "Algebra", "num_items": 2},
            ),
            404,
            "student_not_found",
        )
        own = await anonymous.post(
            "/api/v1/practice/assign/async",
            headers=as_student,
            json={"student_id": mine, "subject": "Algebra", "num_items": 2},
        )
        assert own.status_code == 202
        result = await wait_terminal(jobs_client, own.json()["job_id"])
        seen = (await anonymous.get(f"/api/v1/jobs/{result['job_id']}", headers=as_student)).json()
        assert all(i["answer"] is None for i in seen["data"]["result"]["items"])


async def test_in_flight_limit_and_expiry(database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from practicegen.db.engine import create_engine, create_sessionmaker
    from practicegen.db.models import Job

    settings = make_settings(database_url, run_worker=False, job_max_in_flight=2)
    async with admin_of(settings) as http:
        await seed_bank(http)
        student = await new_student(http)
        body = {"student_id": student, "subject": "Algebra", "num_items": 2}
        ids = [
            (await http.post("/api/v1/practice/assign/async", json=body)).json()["job_id"]
            for _ in range(2)
        ]
        limited = await http.post("/api/v1/practice/assign/async", json=body)
        assert_error(limited, 429, "too_many_jobs")
        assert int(limited.headers["retry-after"]) > 0
        engine = create_engine(settings)
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == uuid.UUID(ids[0]))
                .values(status="completed", expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        await engine.dispose()
        assert_error(await http.get(f"/api/v1/jobs/{ids[0]}"), 410, "job_expired")
        assert (await http.post("/api/v1/practice/assign/async", json=body)).status_code == 202


async def test_at_its_limit_a_tenant_whose_bank_moved_is_refused_and_gets_no_job(
    database_url: str,
) -> None:
    """A refused create whose kept items' bank version moved is checked again, and still counts
    against the tenant's limit: a 429, not a job past it."""
    settings = make_settings(database_url, run_worker=False, job_max_in_flight=1)
    url = "/api/v1/practice/assign/async"
    async with admin_of(settings) as http:
        await seed_bank(http)
        body = {"student_id": await new_student(http), "subject": "Algebra", "num_items": 2}
        assert (await http.post(url, json=body)).status_code == 202  # its items are kept now
        engine = create_engine(settings)  # another process's change: the kept items are stale
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                await ItemRepository(session).bump_bank_version(DEFAULT_TENANT_ID)
        finally:
            await engine.dispose()
        assert_error(await http.post(url, json=body), 429, "too_many_jobs")
        assert len((await http.get("/api/v1/jobs")).json()["data"]["items"]) == 1


async def test_sync_assign_over_its_budget_becomes_a_job(
    database_url: str, recwarn: pytest.WarningsRecorder
) -> None:
    settings = make_settings(database_url, run_worker=True, sync_budget_s=0.000001)
    async with admin_of(settings) as http:
        await seed_bank(http)
        student = await new_student(http)
        body = {"student_id": student, "subject": "Algebra", "num_items": 3}
        jobs = []
        for _ in range(25):  # the budget runs out at an await: many chances to cut one short
            response = await http.post("/api/v1/practice/assign", json=body)
            assert response.status_code == 202, response.text
            accepted = response.json()
            assert accepted["status"] == "pending" and response.headers["location"]
            jobs.append(accepted["job_id"])
        for job_id in jobs:
            done = await wait_terminal(http, job_id)
            assert done["status"] == "completed" and len(done["result"]["items"]) == 3
    gc.collect()  # a connection the budget cut off unreturned is only found by the collector
    leaks = [str(w.message) for w in recwarn if issubclass(w.category, SAWarning)]
    assert not leaks


async def test_etag_lists_weak_tags_and_errors_are_not_cacheable(
    jobs_client: httpx.AsyncClient,
) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    created = await jobs_client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": student, "subject": "Algebra", "num_items": 2},
    )
    done = await wait_terminal(jobs_client, created.json()["job_id"])
    url = f"/api/v1/jobs/{done['job_id']}"
    tag = (await jobs_client.get(url)).headers["etag"]
    listed = await jobs_client.get(url, headers={"If-None-Match": f'"other", W/{tag}'})
    assert listed.status_code == 304
    stale = await jobs_client.get(url + "?wait=10", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200  # answered at once: the client's copy is out of date
    missing = await jobs_client.get(f"/api/v1/jobs/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"


async def test_idempotency_key_with_another_webhook_is_another_body(
    jobs_client: httpx.AsyncClient,
) -> None:
    await seed_bank(jobs_client)
    student = await new_student(jobs_client)
    body = {"student_id": student, "subject": "Algebra", "num_items": 2}
    key = {"Idempotency-Key": "webhook-change"}
    url = "/api/v1/practice/assign/async"
    assert (await jobs_client.post(url, json=body, headers=key)).status_code == 202
    other = body | {"webhook_url": "https://93.184.216.34/hook"}  # public; needs no DNS
    assert_error(
        await jobs_client.post(url, json=other, headers=key), 422, "idempotency_key_reused"
    )


async def test_the_sweep_drops_the_results_of_expired_jobs_and_keeps_the_rest(
    database_url: str,
) -> None:
    """A finished job's result (a student's practice) is deleted from the row once its retention
    passes, by the worker's sweep, not only hidden behind a 410."""
    from datetime import UTC, datetime, timedelta

    from practicegen.db.models import Job

    settings = make_settings(database_url, run_worker=True, job_retention_sweep_s=0.2)
    async with admin_of(settings) as http:
        await seed_bank(http)
        body = {"student_id": await new_student(http), "subject": "Algebra", "num_items": 2}
        ids = []
        for _ in range(2):
            started = await http.post("/api/v1/practice/assign/async", json=body)
            ids.append(uuid.UUID(started.json()["job_id"]))
            assert (await wait_terminal(http, str(ids[-1])))["status"] == "completed"
        engine = create_engine(settings)
        try:
            sessions = create_sessionmaker(engine)
            past = datetime.now(UTC) - timedelta(seconds=1)
            async with sessions() as session, session.begin():
                await session.execute(update(Job).where(Job.id == ids[0]).values(expires_at=past))
            deadline = time.monotonic() + 10
            while True:
                async with sessions() as session:
                    results = {
                        job.id: job.result
                        for job in await session.scalars(select(Job).where(Job.id.in_(ids)))
                    }
                if results[ids[0]] is None or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
        finally:
            await engine.dispose()
    assert results[ids[0]] is None, "the expired job's result is still stored"
    kept = results[ids[1]]
    assert kept is not None and len(kept["items"]) == 2
