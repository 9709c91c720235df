"""Secrets never reach the log: a real `practicegen serve` used with every kind of secret.

The node runs at INFO, where uvicorn logs a WebSocket's path with its query string and httpx
logs each outgoing request's URL. The run uses the admin key, a student token in a WebSocket's
`?token=`, and a webhook URL carrying `user:password@` and an `api_key` parameter; its whole
log is then searched for each secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from practicegen.logs import redact
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY
from tests.support.processes import Cluster, Node, wait_until
from tests.support.receiver import webhook_receiver

HOOK_PASSWORD = "hook-pa55word-d0e2"
HOOK_QUERY_KEY = "query-key-93c1f7"
NODE_SETTINGS = {
    "PRACTICEGEN_API_KEY": ADMIN_KEY,
    "PRACTICEGEN_DEMO_BANK": "false",
    "PRACTICEGEN_SSRF_ALLOWLIST": "127.0.0.1",
    "PRACTICEGEN_LOG_LEVEL": "INFO",
    "PRACTICEGEN_LOG_FORMAT": "json",
    "PRACTICEGEN_GENERATOR_WORKERS": "1",
    "PRACTICEGEN_RUN_WORKER": "true",  # on PostgreSQL too: the delivery is logged by this node
}


@pytest.fixture
async def node(database_url: str, tmp_path: Path) -> AsyncIterator[Node]:
    cluster = Cluster(database_url, tmp_path, dict(NODE_SETTINGS))
    try:
        yield await cluster.start_api("api")
    finally:
        cluster.close()


async def follow(base_url: str, job_id: str, token: str) -> None:
    url = base_url.replace("http://", "ws://") + f"/api/v1/jobs/{job_id}/ws?token={token}"
    async with asyncio.timeout(30), connect(url) as ws:
        try:
            async for raw in ws:
                if json.loads(raw).get("type") in ("completed", "failed"):
                    break
        except ConnectionClosed:
            pass


async def test_no_secret_in_the_log_of_a_run(node: Node) -> None:
    assert node.base_url is not None
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        httpx.AsyncClient(base_url=node.base_url, headers=headers, timeout=30) as http,
        webhook_receiver() as receiver,
    ):
        await seed_bank(http)
        student = await new_student(http)
        minted = await http.post("/api/v1/tokens", json={"student_id": student})
        token: str = minted.json()["data"]["token"]
        hook = receiver.url.replace("http://", f"http://hooks:{HOOK_PASSWORD}@")
        created = await http.post(
            "/api/v1/practice/assign/async",
            json={
                "student_id": student,
                "subject": "Algebra",
                "num_items": 3,
                "webhook_url": f"{hook}?api_key={HOOK_QUERY_KEY}",
            },
        )
        assert created.status_code == 202, created.text
        await follow(node.base_url, created.json()["job_id"], token)
        await receiver.wait_for(1)

    async def logged_delivery() -> bool:
        return bool(node.events("webhook.attempt")) and "HTTP Request" in "".join(
            node.stderr_lines()
        )

    await wait_until(logged_delivery, limit_s=10, what="the delivery in the log")
    log = "\n".join(node.stderr_lines())
    assert "WebSocket" in log and "/ws?token=" in log  # the lines that used to leak are there
    for secret in (ADMIN_KEY, token, HOOK_PASSWORD, HOOK_QUERY_KEY):
        assert secret not in log, f"{secret[:10]}... is in the log"


def test_redact_keeps_what_is_not_secret() -> None:
    line = 'GET https://a:b@host/x?page=2&token=pgen_st_abcdefgh1234&limit=5 "Bearer xyz"'
    assert redact(line) == (
        'GET https://[redacted]@host/x?page=2&token=[redacted]&limit=5 "Bearer [redacted]"'
    )
    assert redact("key pgen_sk_0123456789abcdefWXYZ used") == "key pgen_sk_[redacted]WXYZ used"
    for plain in ("no secret: http://host/path?q=1", "/items?author=ann&design=x&monkey=y"):
        assert redact(plain) == plain
    assert redact("/x?access_token=a&X-Api-Key=b&sig=c") == (
        "/x?access_token=[redacted]&X-Api-Key=[redacted]&sig=[redacted]"
    )
