"""A burst of followers on a node with a tiny connection pool: none dropped, every message
delivered, one read per change for all of a job's watchers; past the node's limit, a 503."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK, InvalidStatus

from practicegen.api.container import Container
from practicegen.bootstrap import prepare
from practicegen.jobs.parts import JobParts
from practicegen.jobs.repository import JobRepository, ProgressReport
from tests.api.test_streams import ws_url
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.jobs import running_job
from tests.support.processes import wait_until
from tests.support.server import StartedApp, serving, started_app

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
SOCKETS, STREAMS, POLLS = 240, 80, 80
STEPS = (25, 50, 75)


@dataclass
class Follower:
    kind: str
    job_id: uuid.UUID
    seqs: list[int] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    ended: str = ""  # how it ended: "completed" after the terminal message, else the failure
    polls: int = 0  # long-poll requests sent


def ids_read(statement: str) -> int:
    """How many ids a read of jobs by `id IN (...)` asks for."""
    found = re.search(r" IN \((.*)\)\s*$", statement, re.DOTALL)
    assert found, statement
    return found.group(1).count(",") + 1


def job_reads(container: Container) -> list[str]:
    """Reads of the jobs table on the node's engine from now on."""
    engine = container.sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM jobs" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def follow_socket(base: str, follower: Follower) -> None:
    async with connect(ws_url(base, str(follower.job_id)), additional_headers=AUTH) as ws:
        with contextlib.suppress(ConnectionClosedOK):
            async for raw in ws:
                follower.last = json.loads(raw)
                follower.seqs.append(follower.last["seq"])
        follower.ended = follower.last.get("type", "") if ws.close_code == 1000 else "dropped"


async def follow_events(http: httpx.AsyncClient, follower: Follower) -> None:
    async with http.stream("GET", f"/api/v1/jobs/{follower.job_id}/events") as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                follower.last = json.loads(line[6:])
                follower.seqs.append(follower.last["seq"])
    follower.ended = follower.last.get("type", "")


async def follow_polls(http: httpx.AsyncClient, follower: Follower) -> None:
    tag = ""
    while True:
        headers = {"If-None-Match": tag} if tag else {}
        follower.polls += 1
        try:
            response = await http.get(f"/api/v1/jobs/{follower.job_id}?wait=20", headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            # a kept-alive connection the server closed as this poll reused it (the client's
            # loop late past the keep-alive time on a loaded machine; seen as either error): a
            # poll is safe to send again, as every long-polling client does
            continue
        if response.status_code not in (200, 304):
            follower.ended = f"{response.status_code} {response.text}"
            return
        tag = response.headers["etag"]
        if response.status_code == 200:
            follower.last = response.json()["data"]
            follower.seqs.append(follower.last["seq"])
            if follower.last["status"] == "completed":
                follower.ended = "completed"
                return


@contextlib.asynccontextmanager
async def tiny_node(database_url: str, **overrides: object) -> AsyncIterator[StartedApp]:
    """A node with two pooled connections and no worker (the test moves its jobs itself),
    serving on a free port."""
    settings = make_settings(database_url, run_worker=False, db_pool_size=1, **overrides)
    await prepare(settings)
    async with started_app(settings) as app, serving(app, settings) as server:
        app.state["base_url"] = server.base_url
        yield app


async def test_a_burst_of_followers_on_two_connections_all_follow_to_the_end(
    database_url: str,
) -> None:
    async with tiny_node(database_url) as app:
        base: str = app.state["base_url"]
        container: Container = app.state["container"]
        sessionmaker, writes = container.sessionmaker, container.part(JobParts).store.writes
        jobs = [running_job() for _ in range(4)]
        async with sessionmaker() as session, session.begin():
            session.add_all(jobs)
        kinds = ["ws"] * SOCKETS + ["sse"] * STREAMS + ["poll"] * POLLS
        followers = [Follower(kind, jobs[n % len(jobs)].id) for n, kind in enumerate(kinds)]
        limits = httpx.Limits(max_connections=None)
        async with (
            httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits) as http,
            asyncio.TaskGroup() as group,
        ):
            for follower in followers:  # all at once: the burst
                if follower.kind == "ws":
                    group.create_task(follow_socket(base, follower))
                elif follower.kind == "sse":
                    group.create_task(follow_events(http, follower))
                else:
                    group.create_task(follow_polls(http, follower))

            async def everyone_has(seq: int, kinds: tuple[str, ...] = ("ws", "sse")) -> bool:
                return all(f.seqs and f.seqs[-1] >= seq for f in followers if f.kind in kinds)

            await wait_until(lambda: everyone_has(1), limit_s=60, what="every first message")
            for seq, percent in enumerate(STEPS, start=2):
                async with sessionmaker() as session, session.begin():
                    reports = [ProgressReport(job.id, 1, percent, f"At {percent}.") for job in jobs]
                    await JobRepository(session, writes).progress_many(reports, datetime.now(UTC))
                await wait_until(functools.partial(everyone_has, seq), limit_s=30, what=f"{seq}")
            hub = container.part(JobParts).changes

            async def everyone_waits() -> bool:  # every long-poll caught up and held again
                caught_up = await everyone_has(len(STEPS) + 1, kinds=("poll",))
                return caught_up and hub.watchers == len(followers)

            await wait_until(everyone_waits, limit_s=30, what="every follower to wait")
            polls_before = sum(f.polls for f in followers)
            reads = job_reads(container)
            async with sessionmaker() as session, session.begin():
                done = {"status": "completed", "result": {"items": []}, "progress_percent": 100}
                for job in jobs:
                    await JobRepository(session, writes).finish(job.id, 1, done, datetime.now(UTC))
        # each finished job read once for all its 100 followers, and on PostgreSQL at most once
        # more when its node hears the change again from its LISTEN connection; a long-poll sent
        # again meanwhile (its wait ran out, or its kept-alive connection was closed under it, on
        # a loaded machine) reads its job once more
        polls_again = sum(f.polls for f in followers) - polls_before
        assert len(reads) >= 1
        assert len(jobs) <= sum(map(ids_read, reads)) <= 2 * len(jobs) + polls_again, reads
    assert [f for f in followers if f.ended != "completed"] == []
    for follower in followers:
        assert follower.seqs == sorted(set(follower.seqs))
        if follower.kind != "poll":  # a stream misses no change: each step and the end
            assert follower.seqs == [1, 2, 3, 4, 5], (follower.kind, follower.seqs)


async def test_past_its_follower_limit_a_node_answers_503_with_retry_after(
    database_url: str,
) -> None:
    async with tiny_node(database_url, max_followers=2) as app:
        base: str = app.state["base_url"]
        sessionmaker = app.state["container"].sessionmaker
        job = running_job()
        async with sessionmaker() as session, session.begin():
            session.add(job)
        url = ws_url(base, str(job.id))
        async with (
            httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as http,
            connect(url, additional_headers=AUTH) as first,
            http.stream("GET", f"/api/v1/jobs/{job.id}/events") as second,
        ):
            assert json.loads(await first.recv())["seq"] == 1
            assert second.status_code == 200
            refusals = [
                await http.get(f"/api/v1/jobs/{job.id}?wait=5"),
                await http.get(f"/api/v1/jobs/{job.id}/events"),
                await http.get(f"/api/v1/jobs/{job.id}/events", headers={"Last-Event-ID": "1"}),
            ]
            with pytest.raises(InvalidStatus) as denied:
                await connect(url, additional_headers=AUTH)
            handshake = denied.value.response
            refusals.append(
                httpx.Response(
                    handshake.status_code,
                    headers=list(handshake.headers.raw_items()),
                    content=bytes(handshake.body),
                )
            )
            for refused in refusals:
                assert refused.status_code == 503, refused.text
                assert int(refused.headers["retry-after"]) >= 1
                body = refused.json()
                assert body["success"] is False
                assert body["error"]["code"] == "too_many_followers"
            # a plain read holds nothing and is still answered
            assert (await http.get(f"/api/v1/jobs/{job.id}")).status_code == 200
        # the two followers left: their places are free again
        async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as http:
            again = await http.get(f"/api/v1/jobs/{job.id}?wait=0.2")
            assert again.status_code == 200
