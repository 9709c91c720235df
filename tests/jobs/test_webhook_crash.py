"""A worker killed while a webhook is in flight: another worker sends it again, same webhook-id.

A delivery is a job, so it inherits the job system's answer to a dead worker: its queue message
stays picked with a heartbeat that no longer moves, another worker re-picks it, claims a new
attempt and sends it again. The receiver here holds the first request open and never answers
it, so the worker is SIGKILLed with the POST truly in flight (the receiver sees the connection
die with it); the receiver answers the next request 204. What must hold: the receiver gets the
event again with the same `webhook-id` and body, validly signed, and the delivery log shows the
delivery completed by the second attempt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from standardwebhooks import Webhook

from practicegen.webhooks.signing import new_secret
from tests.api.test_practice import new_student, seed_bank
from tests.jobs.conftest import Db
from tests.jobs.test_processes import NODE_SETTINGS, client, completed_by
from tests.support.processes import Cluster, wait_until
from tests.support.server import free_port

SECRET = new_secret()
HOOK_SETTINGS = {
    "PRACTICEGEN_SSRF_ALLOWLIST": "127.0.0.1",
    "PRACTICEGEN_WEBHOOK_SECRET": SECRET,
    "PRACTICEGEN_WEBHOOK_TIMEOUT_S": "60",  # the held request outlives the test's patience
    "PRACTICEGEN_WEBHOOK_RETRY_SCHEDULE": "0,1,1",
}
Scope = dict[str, Any]
Message = dict[str, Any]


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes
    answered: int | None = None
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class HoldingReceiver:
    """An ASGI webhook receiver that holds its first `hold` requests open until the caller
    goes away, and answers the rest 204."""

    hold: int = 1
    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body, more = b"", True
        while more:
            message: Message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        arrival = Arrival(headers, body)
        self.arrivals.append(arrival)
        self.changed.set()
        if len(self.arrivals) <= self.hold:
            while (await receive())["type"] != "http.disconnect":
                pass
            arrival.disconnected.set()
            self.changed.set()
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        arrival.answered = 204

    async def wait_for(self, count: int, limit_s: float) -> list[Arrival]:
        async def enough() -> list[Arrival] | None:
            return self.arrivals if len(self.arrivals) >= count else None

        return await wait_until(enough, limit_s=limit_s, what=f"{count} webhook request(s)")


@asynccontextmanager
async def holding_receiver() -> AsyncIterator[HoldingReceiver]:
    receiver = HoldingReceiver()
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}/hook"
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,  # a request still held when the test fails
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
                await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def cluster(postgres_database: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    nodes = Cluster(postgres_database, tmp_path, NODE_SETTINGS | HOOK_SETTINGS)
    try:
        yield nodes
    finally:
        nodes.close()


async def delivery_rows(db: Db) -> list[dict[str, Any]]:
    query = "SELECT id, status, attempt FROM jobs WHERE job_type = 'webhook_delivery'"
    return await (await db.execute(query)).fetchall()


async def attempt_rows(db: Db) -> list[dict[str, Any]]:
    query = "SELECT attempt, status_code FROM webhook_attempts ORDER BY created_at"
    return await (await db.execute(query)).fetchall()


@pytest.mark.postgres
async def test_a_worker_killed_mid_delivery_still_delivers(cluster: Cluster, db: Db) -> None:
    doomed = cluster.start_worker("doomed")
    api = await cluster.start_api("api")
    async with holding_receiver() as receiver, client(api) as http:
        await seed_bank(http)
        student = await new_student(http)
        body = {
            "student_id": student,
            "subject": "Algebra",
            "topic": "Linear Equations",
            "num_items": 2,
            "webhook_url": receiver.url,
        }
        created = await http.post("/api/v1/practice/assign/async", json=body)
        assert created.status_code == 202, created.text
        job_id = created.json()["job_id"]

        [first] = await receiver.wait_for(1, limit_s=45)
        [in_flight] = await delivery_rows(db)
        assert (in_flight["status"], in_flight["attempt"]) == ("processing", 1)
        doomed.kill_everything()  # SIGKILL while the POST waits for its answer
        await asyncio.wait_for(first.disconnected.wait(), 10)  # it died with the worker
        assert await attempt_rows(db) == []  # the killed attempt never got to log anything

        survivor = cluster.start_worker("survivor")
        first_again, second = await receiver.wait_for(2, limit_s=30)
        assert first_again is first and second.answered == 204
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        assert second.body == first.body
        for arrival in (first, second):
            Webhook(SECRET).verify(arrival.body, arrival.headers)
        event = json.loads(second.body)
        assert event["event"] == "practice.assignment.completed"
        assert event["id"] == first.headers["webhook-id"] and event["data"]["job_id"] == job_id
        assert len(event["data"]["result"]["items"]) == 2

        async def logged() -> list[dict[str, Any]] | None:
            url = f"/api/v1/jobs/{job_id}/webhook-deliveries"
            found: list[dict[str, Any]] = (await http.get(url)).json()["data"]
            return found if found and found[0]["status"] == "completed" else None

        [delivery] = await wait_until(logged, limit_s=15, what="the delivery to be logged")
        assert delivery["delivery_id"] == str(in_flight["id"])
        assert delivery["webhook_id"] == first.headers["webhook-id"]
        assert [(a["attempt"], a["status_code"]) for a in delivery["attempts"]] == [(2, 204)]
    [done] = await delivery_rows(db)
    assert (done["status"], done["attempt"]) == ("completed", 2)
    assert job_id in completed_by(doomed)  # the practice job itself finished before the kill
    assert str(in_flight["id"]) in completed_by(survivor)
    assert str(in_flight["id"]) not in completed_by(doomed)
    assert len(receiver.arrivals) == 2  # sent again once, not once per worker or retry
