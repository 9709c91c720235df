"""Tracing as deployed: an API node and a worker, real processes on PostgreSQL, exporting over
OTLP/HTTP to a real collector. The job runs in the worker, so its span reaches the collector
from another process than the request's, yet in the request's trace; both nodes' log lines
name that trace. And a collector that is down costs the requests nothing, nor the stop.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.collector import CollectedSpan, otlp_collector
from tests.support.processes import Cluster, Node, wait_until

TRACE_ID = uuid.uuid4().hex
JOB = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 3}
NODE_SETTINGS = {
    "PRACTICEGEN_API_KEY": ADMIN_KEY,
    "PRACTICEGEN_DEMO_BANK": "false",
    "PRACTICEGEN_RUN_WORKER": "false",
    "PRACTICEGEN_QUEUE_POLL_S": "0.5",
    "PRACTICEGEN_GENERATOR_WORKERS": "1",
    "PRACTICEGEN_DB_POOL_SIZE": "5",  # as the other multi-process tests: see TOGETHER
    "PRACTICEGEN_LOG_LEVEL": "INFO",
    "PRACTICEGEN_LOG_FORMAT": "json",
    "PRACTICEGEN_OTLP_HEADERS": "x-collector-key=collector-key-5e21",
}


async def run_traced_job(api: Node) -> str:
    """An async assign sent in the trace TRACE_ID, followed to its end; the job's id."""
    assert api.base_url is not None
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(base_url=api.base_url, headers=auth, timeout=30) as http:
        made = await http.post("/api/v1/students", json={"display_name": "Traced"})
        student = made.json()["data"]["student_id"]
        created = await http.post(
            "/api/v1/practice/assign/async",
            json={"student_id": student, **JOB},
            headers={"traceparent": f"00-{TRACE_ID}-{'1' * 16}-01"},
        )
        assert created.status_code == 202, created.text
        job_id: str = created.json()["job_id"]

        async def finished() -> bool:
            job = (await http.get(f"/api/v1/jobs/{job_id}?wait=5")).json()["data"]
            assert job["status"] != "failed", job
            return bool(job["status"] == "completed")

        await wait_until(finished, limit_s=60, what="the traced job")
    return job_id


def span_named(spans: list[CollectedSpan], name: str) -> CollectedSpan:
    (found,) = [s for s in spans if s.name == name]
    return found


@pytest.mark.postgres
async def test_api_node_and_worker_export_one_trace(postgres_database: str, tmp_path: Path) -> None:
    async with otlp_collector() as collector:
        cluster = Cluster(
            postgres_database,
            tmp_path,
            {
                **NODE_SETTINGS,
                "PRACTICEGEN_OTLP_ENDPOINT": collector.endpoint,
                # the SDK's own variable: each node sends its batch of spans every half second,
                # not every five as by default
                "OTEL_BSP_SCHEDULE_DELAY": "500",
            },
        )
        try:
            api = await cluster.start_api("api")
            worker = cluster.start_worker("worker")
            await worker.wait_running()
            job_id = await run_traced_job(api)

            async def exported() -> list[CollectedSpan] | None:
                """The trace once both nodes exported their part (each every half second)."""
                ours = collector.of_trace(TRACE_ID)
                parts = {s.name.split()[0] for s in ours}
                return ours if {"job", "POST"} <= parts else None

            spans = await wait_until(exported, limit_s=30, what="both nodes' spans exported")
        finally:
            cluster.close()

    by_id = {s.span_id: s for s in spans}
    job = span_named(spans, "job practice_generation")
    assert job.attributes["job.id"] == job_id
    assert job.resource["process.pid"] == worker.pid
    chain = []
    span = job
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    assert chain and chain[-1].attributes.get("http.route") == "/api/v1/practice/assign/async"
    assert chain[-1].parent_span_id == "1" * 16  # the client's span
    assert {s.resource["process.pid"] for s in chain} == {api.pid}
    assert all(h.get("x-collector-key") == "collector-key-5e21" for h in collector.headers)

    asked = [e for e in api.events("http.request") if e["path"].endswith("/assign/async")]
    assert [e.get("trace_id") for e in asked] == [TRACE_ID]
    done = [e for e in worker.events("job.completed") if e["job_id"] == job_id]
    assert [e.get("trace_id") for e in done] == [TRACE_ID]
    assert all("trace_id" not in e for e in api.events("auth.admin_key_created"))


async def test_a_dead_collector_costs_requests_nothing(database_url: str, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens there
    cluster = Cluster(
        database_url,
        tmp_path,
        {**NODE_SETTINGS, "PRACTICEGEN_RUN_WORKER": "true", "PRACTICEGEN_OTLP_ENDPOINT": dead},
    )
    try:
        api = await cluster.start_api("api")
        assert api.base_url is not None
        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(base_url=api.base_url, headers=auth, timeout=5) as http:
            started = time.monotonic()
            for _ in range(20):
                made = await http.post("/api/v1/students", json={"display_name": "Ada"})
                assert made.status_code == 201, made.text
            assert time.monotonic() - started < 5
        await run_traced_job(api)
        api.send(signal.SIGTERM)  # its last spans cannot be sent: it stops all the same
        await api.wait_exit(limit_s=10)
    finally:
        cluster.close()
