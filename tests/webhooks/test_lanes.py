"""Webhook deliveries in their own lane: a tenant whose receiver hangs delays only itself.

Tenant A's receiver accepts every delivery and answers nothing; A has many deliveries queued.
Tenant B meanwhile runs a one-item job with a webhook to a healthy receiver. With a job slot
held for every hanging delivery (deliveries used to share the jobs' slots) B's job would wait
for A's timeouts, and with a lane but no share per tenant B's delivery would: neither happens.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.webhooks.service import WEBHOOK_LANE
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_jobs import wait_terminal
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.processes import wait_until
from tests.support.receiver import Receiver, webhook_receiver
from tests.support.server import RunningServer, running_server

HANG_S = 4.0
"""A's attempts time out after this; B must never wait that long."""
SHARE = 2
LANE_SLOTS = 4
A_DELIVERIES = LANE_SLOTS
"""Without a share per tenant, A alone would fill the lane."""
TENANT_SERIES = re.compile(
    r'^practicegen_lane_tenant_in_flight\{lane="(?P<lane>[^"]+)",tenant_id="(?P<tenant>[^"]+)"\}'
    r" (?P<value>\S+)$",
    re.MULTILINE,
)


@pytest.fixture
async def lane_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        database_url,
        run_worker=True,
        job_concurrency=2,
        job_heartbeat_s=0.2,
        ssrf_allowlist="127.0.0.1",
        webhook_timeout_s=HANG_S,
        webhook_retry_schedule="0,120",  # one attempt each within the test
        webhook_concurrency=LANE_SLOTS,
        webhook_tenant_share=SHARE,
        # a deferral waits 0.3 s, doubling: A's deferred deliveries try again 4.5 s on, just
        # after its first attempts time out (from 0.2 s, at 3 s and then 6.2 s)
        webhook_defer_s=0.3,
    )
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


async def _job_with_webhook(client: httpx.AsyncClient, student: str, url: str) -> str:
    body = {"student_id": student, "subject": "Algebra", "num_items": 1, "webhook_url": url}
    response = await client.post("/api/v1/practice/assign/async", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


async def _hook_arrives_after(client: httpx.AsyncClient, student: str, receiver: Receiver) -> float:
    """Seconds from creating a one-item job until its webhook reaches `receiver`."""
    before = len(receiver.received)
    started = time.monotonic()
    await _job_with_webhook(client, student, receiver.url)
    await receiver.wait_for(before + 1, timeout_s=30)
    return time.monotonic() - started


async def _load_a(client: httpx.AsyncClient, hanging: Receiver) -> str:
    """A_DELIVERIES deliveries of tenant A to the hanging receiver: a job's, then redeliveries."""
    await seed_bank(client)
    job_id = await _job_with_webhook(client, await new_student(client), hanging.url)
    await wait_terminal(client, job_id)
    deliveries = (await client.get(f"/api/v1/jobs/{job_id}/webhook-deliveries")).json()["data"]
    for _ in range(A_DELIVERIES - 1):
        again = await client.post(
            f"/api/v1/webhook-deliveries/{deliveries[0]['delivery_id']}/redeliver"
        )
        assert again.status_code == 202, again.text
    return job_id


async def _tenant_in_flight(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        m["tenant"]: float(m["value"])
        for m in TENANT_SERIES.finditer(text)
        if m["lane"] == WEBHOOK_LANE
    }


@pytest.fixture
async def tenant_b(lane_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=lane_server.base_url, timeout=30) as b:
        b.headers.update(bearer(await new_tenant_key(b, lane_server.settings)))
        yield b


async def test_a_hanging_receiver_delays_only_its_own_tenant(
    lane_server: RunningServer, tenant_b: httpx.AsyncClient
) -> None:
    b = tenant_b
    async with (
        webhook_receiver(hang=True) as hanging,
        webhook_receiver() as healthy,
        httpx.AsyncClient(
            base_url=lane_server.base_url, headers=bearer(ADMIN_KEY), timeout=30
        ) as a,
    ):
        await seed_bank(b)
        b_student = await new_student(b)
        unloaded_s = await _hook_arrives_after(b, b_student, healthy)

        a_job = await _load_a(a, hanging)
        await hanging.wait_for(SHARE, timeout_s=10)  # A's share of the lane hangs now
        in_flight = await wait_until(
            lambda: _shares_in_use(a), limit_s=5, what="A's hanging deliveries in /metrics"
        )
        loaded_s = await _hook_arrives_after(b, b_student, healthy)
        assert loaded_s < HANG_S, (unloaded_s, loaded_s)  # B never waited on a hung attempt
        assert loaded_s < unloaded_s + 2.0, (unloaded_s, loaded_s)
        assert max(in_flight.values()) == SHARE

        await hanging.wait_for(A_DELIVERIES, timeout_s=60)  # none of A's is lost
        assert hanging.most_open == SHARE  # A's share was kept, and used
        deliveries = await wait_until(
            lambda: _every_attempt_logged(a, a_job), limit_s=2 * HANG_S, what="A's attempts logged"
        )
        # a delivery deferred past its tenant's share spent none of its attempts
        assert [d["attempts"][0]["attempt"] for d in deliveries] == [1] * A_DELIVERIES
        metrics = (await a.get("/metrics")).text
        assert re.search(
            rf'practicegen_lane_deferred_total\{{lane="{WEBHOOK_LANE}"\}} [1-9]', metrics
        )


async def _shares_in_use(client: httpx.AsyncClient) -> dict[str, float] | None:
    in_flight = await _tenant_in_flight(client)
    return in_flight if in_flight and max(in_flight.values()) >= SHARE else None


async def _every_attempt_logged(
    client: httpx.AsyncClient, job_id: str
) -> list[dict[str, Any]] | None:
    response = await client.get(f"/api/v1/jobs/{job_id}/webhook-deliveries")
    deliveries: list[dict[str, Any]] = response.json()["data"]
    logged = len(deliveries) == A_DELIVERIES and all(d["attempts"] for d in deliveries)
    return deliveries if logged else None


def test_a_tenant_share_larger_than_the_lane_is_refused() -> None:
    with pytest.raises(ValidationError, match="TENANT_SHARE"):
        Settings(_env_file=None, webhook_concurrency=2, webhook_tenant_share=3)
