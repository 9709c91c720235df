"""Signed, retried webhook deliveries to a real receiver, the SSRF guard in front of them, and
rotating the signing secret (both signatures on every delivery until the old secret ends)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from practicegen.bootstrap import prepare
from practicegen.webhooks.signing import InvalidSignature, new_secret, verify
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.api.test_jobs import wait_terminal
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.processes import wait_until
from tests.support.receiver import Received, webhook_receiver
from tests.support.server import RunningServer, running_server

SECRET = new_secret()
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
GRACE_S = 3.0
"""How long a rotated-out secret signs here: long enough for a delivery, short to wait out."""


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
        webhook_secret_grace_s=GRACE_S,
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


def _signed_by(received: Received, secret: str) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


async def test_during_a_rotation_deliveries_carry_both_signatures_until_the_grace_ends(
    hook_server: RunningServer,
) -> None:
    async with (
        webhook_receiver() as receiver,
        httpx.AsyncClient(base_url=hook_server.base_url, headers=AUTH, timeout=30) as client,
    ):
        await seed_bank(client)
        before = (await client.get("/api/v1/webhook-secret")).json()["data"]
        assert before["current"]["secret"] == SECRET and before["current"]["expires_at"] is None
        assert before["previous"] == []
        asked = datetime.now(UTC)
        rotated = await client.post("/api/v1/webhook-secret/rotate")
        assert rotated.status_code == 200, rotated.text
        data = rotated.json()["data"]
        new = data["current"]["secret"]
        assert new.startswith("whsec_") and new != SECRET and data["current"]["expires_at"] is None
        [old] = data["previous"]
        assert old["secret"] == SECRET
        ends = datetime.fromisoformat(old["expires_at"])
        grace = timedelta(seconds=GRACE_S)
        assert asked + grace <= ends <= datetime.now(UTC) + grace
        assert (await client.get("/api/v1/webhook-secret")).json()["data"] == data

        job_id = (await create(client, receiver.url)).json()["job_id"]
        [during] = await receiver.wait_for(1)
        assert json.loads(during.body)["data"]["job_id"] == job_id
        assert int(during.headers["webhook-timestamp"]) < ends.timestamp()  # sent in the grace
        signatures = during.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
        for signature, secret, other in (
            (signatures[0], new, SECRET),
            (signatures[1], SECRET, new),
        ):
            alone = Received({**during.headers, "webhook-signature": signature}, during.body)
            assert _signed_by(alone, secret) and not _signed_by(alone, other)
        assert _signed_by(during, new) and _signed_by(during, SECRET)  # either receiver verifies

        async def old_secret_gone() -> dict[str, Any] | None:
            now = (await client.get("/api/v1/webhook-secret")).json()["data"]
            return now if now["previous"] == [] else None

        after = await wait_until(old_secret_gone, limit_s=GRACE_S + 10, what="the grace to end")
        assert datetime.now(UTC) >= ends and after["current"] == data["current"]
        await create(client, receiver.url)
        late = (await receiver.wait_for(2))[1]
        assert late.headers["webhook-signature"].count("v1,") == 1
        assert _signed_by(late, new) and not _signed_by(late, SECRET)


async def test_only_an_admin_sees_or_rotates_its_own_tenants_secret(
    hook_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=hook_server.base_url, timeout=30) as http:
        admin = bearer(ADMIN_KEY)
        made = await http.post("/api/v1/keys", json={"name": "backend"}, headers=admin)
        server_key = bearer(made.json()["data"]["key"])
        student = (await http.post("/api/v1/students", json={}, headers=admin)).json()["data"]
        token = await http.post(
            "/api/v1/tokens", json={"student_id": student["student_id"]}, headers=admin
        )
        student_token = bearer(token.json()["data"]["token"])
        for method, path in (
            ("GET", "/api/v1/webhook-secret"),
            ("POST", "/api/v1/webhook-secret/rotate"),
        ):
            assert_error(await http.request(method, path), 401, "not_authenticated")
            for caller in (server_key, student_token):
                assert_error(
                    await http.request(method, path, headers=caller), 403, "permission_denied"
                )
        assert (await http.get("/api/v1/webhook-secret", headers=admin)).json()["data"]["current"][
            "secret"
        ] == SECRET  # the refusals changed nothing

        other = bearer(await new_tenant_key(http, hook_server.settings))
        theirs = (await http.get("/api/v1/webhook-secret", headers=other)).json()["data"]
        assert theirs["current"]["secret"].startswith("whsec_")
        assert theirs["current"]["secret"] != SECRET  # the configured secret is the default's
        await http.post("/api/v1/webhook-secret/rotate", headers=other)
        ours = (await http.get("/api/v1/webhook-secret", headers=admin)).json()["data"]
        assert ours == {"current": ours["current"], "previous": []}
        assert ours["current"]["secret"] == SECRET


async def test_racing_rotations_leave_one_current_secret(hook_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=hook_server.base_url, headers=AUTH, timeout=30) as http:
        # the first secret exists before the race, so only rotation's own lock orders them
        assert (await http.get("/api/v1/webhook-secret")).status_code == 200
        answers = await asyncio.gather(
            *(http.post("/api/v1/webhook-secret/rotate") for _ in range(4))
        )
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        made = {a.json()["data"]["current"]["secret"] for a in answers}
        now = (await http.get("/api/v1/webhook-secret")).json()["data"]
        assert len(made) == 4 and now["current"]["secret"] in made
        previous = [p["secret"] for p in now["previous"]]
        assert sorted(previous) == sorted(made - {now["current"]["secret"]} | {SECRET})
        assert all(p["expires_at"] is not None for p in now["previous"])
