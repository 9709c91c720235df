"""Following jobs live: the guide's WebSocket messages and Server-Sent Events, across nodes."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from practicegen.bootstrap import prepare
from practicegen.jobs.parts import JobParts
from tests.api.test_jobs import jobs_client, wait_terminal, worker_server  # noqa: F401
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.processes import wait_until
from tests.support.server import RunningServer, running_server, serving, started_app

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def ws_url(base: str, job_id: str, **query: str) -> str:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return base.replace("http://", "ws://") + f"/api/v1/jobs/{job_id}/ws{suffix}"


async def start_job(client: httpx.AsyncClient, num_items: int = 5) -> str:
    student = await new_student(client)
    created = await client.post(
        "/api/v1/practice/assign/async",
        json={"student_id": student, "subject": "Algebra", "num_items": num_items},
    )
    job_id: str = created.json()["job_id"]
    return job_id


async def read_all(url: str, **kwargs: Any) -> tuple[list[dict[str, Any]], int | None]:
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(30), connect(url, **kwargs) as ws:
        try:
            async for raw in ws:
                messages.append(json.loads(raw))
        except ConnectionClosed:
            pass
        return messages, ws.close_code


def assert_guide_stream(messages: list[dict[str, Any]]) -> None:
    assert messages, "no message"
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(set(seqs)), seqs
    progress = [m["progress_percent"] for m in messages if m["type"] == "status"]
    assert progress == sorted(progress), progress
    for m in messages[:-1]:
        assert m["type"] == "status"
        assert set(m) == {"type", "status", "progress_percent", "progress_message", "seq"}
    last = messages[-1]
    assert last["type"] == "completed" and len(last["result"]["items"]) > 0


async def test_websocket_follows_a_job_to_completion(
    jobs_client: httpx.AsyncClient,  # noqa: F811
    worker_server: RunningServer,  # noqa: F811
) -> None:
    await seed_bank(jobs_client)
    job_id = await start_job(jobs_client)
    messages, code = await read_all(ws_url(worker_server.base_url, job_id), additional_headers=AUTH)
    assert_guide_stream(messages)
    assert code == 1000
    # a finished job: its terminal message at once, then a normal close
    again, code = await read_all(ws_url(worker_server.base_url, job_id, token=ADMIN_KEY))
    assert [m["type"] for m in again] == ["completed"] and code == 1000


async def test_websocket_auth_by_subprotocol_and_refusals(
    jobs_client: httpx.AsyncClient,  # noqa: F811
    worker_server: RunningServer,  # noqa: F811
) -> None:
    await seed_bank(jobs_client)
    job_id = await start_job(jobs_client, num_items=2)
    messages, _ = await read_all(
        ws_url(worker_server.base_url, job_id),
        subprotocols=["bearer", ADMIN_KEY],
    )
    assert messages[-1]["type"] == "completed"
    refused: list[tuple[str, dict[str, Any]]] = [
        (ws_url(worker_server.base_url, job_id), {}),
        (ws_url(worker_server.base_url, job_id, token="pgen_sk_wrong"), {}),
        (ws_url(worker_server.base_url, str(uuid.uuid4())), {"additional_headers": AUTH}),
        (
            ws_url(worker_server.base_url, job_id),
            {"additional_headers": AUTH, "origin": "https://evil.example"},
        ),
    ]
    # accepted, then closed with 4000 + the HTTP status: a browser, which sees a refused
    # handshake only as 1006, learns why and need not reconnect
    expected = [(4401, "not_authenticated"), (4401, "not_authenticated"), (4404, "job_not_found")]
    for (url, kwargs), (code, reason) in zip(refused[:3], expected, strict=True):
        async with connect(url, **kwargs) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert (ws.close_code, ws.close_reason) == (code, reason)
    # no origin list configured: any origin may connect (the token is what protects the job)
    messages, _ = await read_all(refused[3][0], **refused[3][1])
    assert messages[-1]["type"] == "completed"


async def test_websocket_origin_must_be_listed_when_a_list_is_set(database_url: str) -> None:
    settings = make_settings(database_url, run_worker=True, cors_origins="https://app.example")
    await prepare(settings)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as client,
    ):
        await seed_bank(client)
        job_id = await start_job(client, num_items=2)
        url = ws_url(server.base_url, job_id)
        with pytest.raises(InvalidStatus):
            await read_all(url, additional_headers=AUTH, origin="https://evil.example")
        messages, _ = await read_all(url, additional_headers=AUTH, origin="https://app.example")
        assert messages[-1]["type"] == "completed"


async def test_sse_follows_and_resumes(
    jobs_client: httpx.AsyncClient,  # noqa: F811
) -> None:
    await seed_bank(jobs_client)
    job_id = await start_job(jobs_client)
    events: list[tuple[int, str, dict[str, Any]]] = []
    async with jobs_client.stream("GET", f"/api/v1/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        block: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(": ")
                block[key] = value
            elif line == "" and block:
                events.append((int(block["id"]), block["event"], json.loads(block["data"])))
                block = {}
    assert_guide_stream([data for _, _, data in events])
    assert [e[0] for e in events] == [e[2]["seq"] for e in events]
    last_id = events[-1][0]
    resumed = await jobs_client.get(
        f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(last_id)}
    )
    assert "event:" not in resumed.text  # nothing newer than what the client had


@pytest.mark.postgres
async def test_cross_node_websocket_survives_a_killed_listen_connection(
    postgres_database: str,
) -> None:
    """Job created on A, run by worker C, watched on B whose LISTEN connection is killed."""
    api_only = make_settings(postgres_database, run_worker=False)
    worker = make_settings(postgres_database, run_worker=True, job_heartbeat_s=0.2)
    await prepare(api_only)
    async with (
        running_server(api_only) as node_a,
        running_server(api_only) as node_b,
        httpx.AsyncClient(base_url=node_a.base_url, headers=AUTH) as client_a,
    ):
        await seed_bank(client_a)
        listeners = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND query ILIKE 'LISTEN practicegen_jobs%' AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(
            node_b.settings.database_url.replace("+psycopg", ""), autocommit=True
        ) as admin:

            async def both_listening() -> bool:  # a node may answer before its LISTEN is sent
                return len(admin.execute(listeners).fetchall()) >= 2

            await wait_until(both_listening, limit_s=10, what="both API nodes' LISTEN")
            killed = admin.execute(f"SELECT pg_terminate_backend(pid) FROM ({listeners}) l")
            assert killed.fetchall() == [(True,), (True,)]
        job_id = await start_job(client_a)
        watching = asyncio.create_task(
            read_all(ws_url(node_b.base_url, job_id), additional_headers=AUTH)
        )
        await asyncio.sleep(0.5)
        async with running_server(worker) as _node_c:
            messages, code = await watching
        assert_guide_stream(messages)
        assert code == 1000
        status = (await client_a.get(f"/api/v1/jobs/{job_id}")).json()["data"]
        assert status["status"] == "completed"


async def test_a_websocket_client_that_misbehaves_then_leaves_an_idle_job_frees_its_watch(
    database_url: str,
) -> None:
    """Frames a client should not send (text, binary) are ignored; its leaving, while the job
    it follows has nothing new, ends the handler and its watch at once, not at the next change."""
    settings = make_settings(database_url, run_worker=False)  # the job stays queued: idle
    await prepare(settings)
    async with started_app(settings) as app, serving(app, settings) as server:
        hub = app.state["container"].part(JobParts).changes
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH, timeout=30) as http:
            await seed_bank(http)
            job_id = await start_job(http)
        async with asyncio.timeout(30):
            async with connect(ws_url(server.base_url, job_id), additional_headers=AUTH) as ws:
                first = json.loads(await ws.recv())
                assert first["type"] == "status" and first["status"] == "pending"
                await ws.send("hello")
                await ws.send(b"\x00" * 1024)
                await (await ws.ping())  # the server has read both frames and is still here
                assert [str(j) for j in hub.watched_jobs()] == [job_id]

        async def unwatched() -> bool:
            return not hub.watched_jobs()

        await wait_until(unwatched, limit_s=5, what="the watch to end")
