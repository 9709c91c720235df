"""Signed, retried webhook deliveries to a real receiver, and the SSRF guard in front of them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from practicegen.bootstrap import prepare
from practicegen.webhooks.signing import InvalidSignature, new_secret, verify
from tests.api.test_errors import assert_error
from tests.api.test_jobs import wait_terminal
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.receiver import webhook_receiver
from tests.support.server import RunningServer, running_server

SECRET = new_secret()
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
async def hook_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        database_url,
        run_worker=True,
        job_heartbeat_s=0.2,
        webhook_secret=SECRET,
        ssrf_allowlist="127.0.0.1",
        webhook_retry_schedule="0,0.2,0.2,0.2,0.2",
        webhook_timeout_s=2,
    )
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


async def create(client: httpx.AsyncClient, url: str, num_items: int = 2) -> httpx.Response:
    student = await new_student(client)
    return await client.post(
        "/api/v1/practice/assign/async",
        json={
            "student_id": student,
            "subject": "Algebra",
            "num_items": num_items,
            "webhook_url": url,
        },
    )


async def test_receiver_down_three_times_gets_the_fourth_signed_delivery(
    hook_server: RunningServer,
) -> None:
    async with (
        webhook_receiver(fail_first=3) as receiver,
        httpx.AsyncClient(base_url=hook_server.base_url, headers=AUTH, timeout=30) as client,
    ):
        await seed_bank(client)
        job_id = (await create(client, receiver.url)).json()["job_id"]
        await wait_terminal(client, job_id)
        got = await receiver.wait_for(4)
        assert len({r.headers["webhook-id"] for r in got}) == 1  # stable across retries
        body = json.loads(got[-1].body)
        assert body["event"] == body["type"] == "practice.assignment.completed"
        assert body["data"]["job_id"] == job_id and len(body["data"]["result"]["items"]) == 2
        assert body["id"] == got[-1].headers["webhook-id"] and body["timestamp"].endswith("Z")
        Webhook(SECRET).verify(got[-1].body, got[-1].headers)  # the public library agrees
        verify(got[-1].headers, got[-1].body, SECRET)
        with pytest.raises(InvalidSignature):
            verify(got[-1].headers, got[-1].body + b" ", SECRET)
        deliveries = await _deliveries_until(client, job_id, "completed")
        assert [a["status_code"] for a in deliveries[0]["attempts"]] == [503, 503, 503, 204]
        redelivered = await client.post(
            f"/api/v1/webhook-deliveries/{deliveries[0]['delivery_id']}/redeliver"
        )
        assert redelivered.status_code == 202
        again = await receiver.wait_for(5)
        assert again[-1].headers["webhook-id"] == got[0].headers["webhook-id"]


async def _deliveries_until(
    client: httpx.AsyncClient, job_id: str, status: str
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        data = (await client.get(f"/api/v1/jobs/{job_id}/webhook-deliveries")).json()["data"]
        if data and data[0]["status"] == status:
            return list(data)
        await client.get("/healthz")
    raise AssertionError(f"delivery of {job_id} never reached {status}")


async def test_gone_stops_and_cancel_is_an_event(hook_server: RunningServer) -> None:
    async with (
        webhook_receiver(fail_first=100, fail_status=410) as receiver,
        httpx.AsyncClient(base_url=hook_server.base_url, headers=AUTH, timeout=30) as client,
    ):
        await seed_bank(client)
        job_id = (await create(client, receiver.url)).json()["job_id"]
        await wait_terminal(client, job_id)
        deliveries = await _deliveries_until(client, job_id, "failed")
        assert [a["status_code"] for a in deliveries[0]["attempts"]] == [410]  # no retry
    async with (
        webhook_receiver() as receiver,
        httpx.AsyncClient(base_url=hook_server.base_url, headers=AUTH, timeout=30) as client,
    ):
        student = await new_student(client)
        body = {
            "student_id": student,
            "subject": "Algebra",
            "num_items": 2,
            "webhook_url": receiver.url,
        }
        job_id = (await client.post("/api/v1/practice/assign/async", json=body)).json()["job_id"]
        cancelled = await client.post(f"/api/v1/jobs/{job_id}/cancel")
        expected = (
            "practice.assignment.cancelled"
            if cancelled.status_code == 200
            else "practice.assignment.completed"
        )
        got = await receiver.wait_for(1)
        assert json.loads(got[0].body)["event"] == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://localhost:9/hook",
        "http://100.64.0.1/hook",
        "ftp://example.org/hook",
    ],
)
async def test_ssrf_guard_refuses_internal_targets(database_url: str, url: str) -> None:
    settings = make_settings(database_url)
    await prepare(settings)
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url, headers=AUTH) as client,
    ):
        await seed_bank(client)
        response = await create(client, url)
        if url.startswith("ftp"):
            assert_error(response, 422, "validation_error")
        else:
            assert_error(response, 422, "webhook_url_not_allowed")
        assert (await client.get("/api/v1/jobs")).json()["data"]["items"] == []
