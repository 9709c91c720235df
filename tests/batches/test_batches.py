"""Assigning a class at once, over HTTP on both backends: one job per student under one batch,
followed as one, told once by webhook, all or nothing, and replayed by Idempotency-Key."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from practicegen.bootstrap import prepare
from tests.api.test_auth import bearer
from tests.api.test_errors import assert_error
from tests.classes.test_classes import new_student
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.receiver import webhook_receiver
from tests.support.server import free_port, running_server

PRACTICE = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 2}


@asynccontextmanager
async def node(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {
        "run_worker": True,
        "job_heartbeat_s": 0.2,
        "batch_poll_s": 0.1,
        "ssrf_allowlist": "127.0.0.1",
    }
    settings = make_settings(database_url, **(values | overrides))
    await prepare(settings)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=bearer(ADMIN_KEY), timeout=60) as http,
    ):
        yield http


async def new_class(http: httpx.AsyncClient, names: list[str]) -> tuple[str, list[str]]:
    students = [await new_student(http, display_name=n) for n in names]
    made = await http.post("/api/v1/classes", json={"name": "8C", "student_ids": students})
    assert made.status_code == 201, made.text
    class_id: str = made.json()["data"]["class_id"]
    return class_id, students


async def until_ended(http: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90):
        while True:
            batch: dict[str, Any] = (await http.get(f"/api/v1/batches/{batch_id}")).json()["data"]
            if batch["status"] in ("completed", "failed", "cancelled"):
                return batch
            await asyncio.sleep(0.1)


async def jobs_of_type(http: httpx.AsyncClient, job_type: str) -> list[dict[str, Any]]:
    listed = await http.get("/api/v1/jobs", params={"job_type": job_type, "limit": 200})
    items: list[dict[str, Any]] = listed.json()["data"]["items"]
    return items


async def test_a_class_assigned_at_once_completes_each_student_then_the_batch_once(
    database_url: str,
) -> None:
    async with webhook_receiver() as receiver, node(database_url) as http:
        class_id, students = await new_class(http, ["Ada", "Bo", "Cy"])
        body = {**PRACTICE, "webhook_url": receiver.url}
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=body)
        assert started.status_code == 202, started.text
        accepted = started.json()
        assert started.headers["Location"] == accepted["status_url"]
        assert sorted(j["student_id"] for j in accepted["jobs"]) == sorted(students)
        assert {j["status"] for j in accepted["jobs"]} <= {"pending", "processing"}

        batch = await until_ended(http, accepted["batch_id"])
        assert batch["status"] == "completed" and batch["progress_percent"] == 100
        assert batch["class_id"] == class_id
        assert batch["counts"]["completed"] == 3 and batch["counts"]["failed"] == 0
        for job in batch["jobs"]:
            read = (await http.get(job["status_url"])).json()["data"]
            assert read["status"] == "completed" and read["student_id"] == job["student_id"]
            assert read["result"]["student_id"] == job["student_id"]
            assert len(read["result"]["items"]) == 2

        await receiver.wait_for(4, timeout_s=30)
        await asyncio.sleep(0.5)  # nothing more comes
        bodies = [json.loads(r.body) for r in receiver.received]
        assert len(bodies) == 4
        batch_hooks = [b for b in bodies if b["event"] == "practice.batch.completed"]
        assert len(batch_hooks) == 1
        assert batch_hooks[0]["data"]["job_id"] == accepted["batch_id"]
        assert batch_hooks[0]["data"]["student_id"] is None
        assert batch_hooks[0]["data"]["result"]["counts"]["completed"] == 3
        student_hooks = [b for b in bodies if b["event"] == "practice.assignment.completed"]
        assert sorted(b["data"]["student_id"] for b in student_hooks) == sorted(students)


async def test_a_batch_is_replayed_by_its_key_and_a_list_of_students_makes_one_too(
    database_url: str,
) -> None:
    async with node(database_url) as http:
        class_id, students = await new_class(http, ["Ada", "Bo"])
        key = {"Idempotency-Key": "class-8c-monday"}
        url = f"/api/v1/classes/{class_id}/assign/async"
        first = await http.post(url, json=PRACTICE, headers=key)
        again = await http.post(url, json=PRACTICE, headers=key)
        assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["batch_id"] == first.json()["batch_id"]
        assert len(await jobs_of_type(http, "practice_generation")) == 2
        other = await http.post(url, json={**PRACTICE, "num_items": 3}, headers=key)
        assert_error(other, 422, "idempotency_key_reused")

        await new_student(http, display_name="Dee", external_id="sis-9")
        body = {**PRACTICE, "student_ids": [students[0]], "external_ids": ["sis-9"]}
        listed = await http.post("/api/v1/batches", json=body)
        assert listed.status_code == 202, listed.text
        batch = await until_ended(http, listed.json()["batch_id"])
        assert batch["class_id"] is None and batch["counts"]["completed"] == 2
        await until_ended(http, first.json()["batch_id"])


async def test_a_refused_batch_makes_no_job_at_all(database_url: str) -> None:
    async with node(database_url, job_max_in_flight=2, run_worker=False) as http:
        class_id, students = await new_class(http, ["Ada", "Bo", "Cy"])
        url = f"/api/v1/classes/{class_id}/assign/async"
        assert_error(await http.post(url, json=PRACTICE), 429, "too_many_jobs")
        unknown = {**PRACTICE, "subject": "Alchemy"}
        assert_error(await http.post(url, json=unknown), 422, "unknown_subject")
        assert_error(
            await http.post(url, json={**PRACTICE, "num_items": 0}), 422, "num_items_out_of_range"
        )
        missing = f"/api/v1/classes/{uuid.uuid4()}/assign/async"
        assert_error(await http.post(missing, json=PRACTICE), 404, "class_not_found")
        empty = (await http.post("/api/v1/classes", json={"name": "empty"})).json()["data"]
        refused = await http.post(
            f"/api/v1/classes/{empty['class_id']}/assign/async", json=PRACTICE
        )
        assert_error(refused, 422, "empty_batch")
        ghost = {**PRACTICE, "student_ids": [str(uuid.uuid4())]}
        assert_error(await http.post("/api/v1/batches", json=ghost), 404, "student_not_found")
        assert_error(await http.post("/api/v1/batches", json=PRACTICE), 422, "validation_error")
        private = {**PRACTICE, "webhook_url": "http://10.0.0.1/hook"}
        assert_error(await http.post(url, json=private), 422, "webhook_url_not_allowed")
        assert await jobs_of_type(http, "practice_generation") == []
        assert await jobs_of_type(http, "practice_batch") == []

        token = await http.post("/api/v1/tokens", json={"student_id": students[0]})
        as_student = bearer(token.json()["data"]["token"])
        assert_error(
            await http.post(url, json=PRACTICE, headers=as_student), 403, "permission_denied"
        )
        assert_error(
            await http.get(f"/api/v1/batches/{uuid.uuid4()}", headers=as_student),
            403,
            "permission_denied",
        )
        assert_error(await http.get(f"/api/v1/batches/{uuid.uuid4()}"), 404, "batch_not_found")


async def test_a_dead_receiver_holds_back_neither_the_students_nor_the_batch(
    database_url: str,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    async with node(database_url, webhook_retry_schedule="0,120") as http:
        class_id, _students = await new_class(http, ["Ada", "Bo"])
        body = {**PRACTICE, "webhook_url": dead}
        started = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=body)
        batch = await until_ended(http, started.json()["batch_id"])
        assert batch["status"] == "completed" and batch["counts"]["completed"] == 2
        deliveries = await jobs_of_type(http, "webhook_delivery")
        assert len(deliveries) == 3  # each student's and the batch's, trying on their own
