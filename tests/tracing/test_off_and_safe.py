"""Tracing costs nothing when off, refuses clearly when it cannot start, and never exports a
secret: whatever a caller, a model's error or our own code puts on a span is redacted, as
log lines are."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from practicegen import tracing
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job
from practicegen.tracing.export import STOP_LIMIT_S
from tests.cli.support import cli_env, run_cli
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import in_process_client, started_app

REPO = Path(__file__).resolve().parents[2]
STUDENT_TOKEN = "pgen_st_abcdefghijklmnopqrstuvwxyz0123456789"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
W3C_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")

OFF_RUN = f"""
import asyncio, sys
from practicegen.cli.serve import observe
from practicegen.config import Settings
from practicegen.bootstrap import prepare
from practicegen.jobs.store import PendingJob
from tests.support.server import in_process_client, started_app

async def main() -> None:
    settings = Settings(
        _env_file=None, api_key={ADMIN_KEY!r}, demo_bank=False, pools_at_start=False,
        log_level="WARNING",
    )
    observe(settings)
    await prepare(settings)
    headers = {{
        "Authorization": "Bearer {ADMIN_KEY}",
        "traceparent": "00-{TRACE_ID}-00f067aa0ba902b7-01",
    }}
    async with started_app(settings) as app, in_process_client(app, headers=headers) as http:
        student = (await http.post("/api/v1/students", json={{"display_name": "A"}})).json()
        job = await http.post("/api/v1/practice/assign/async", json={{
            "student_id": student["data"]["student_id"], "subject": "Arithmetic", "num_items": 2,
        }})
        assert job.status_code == 202, job.text
        status = "pending"
        while status in ("pending", "processing"):
            done = await http.get(f"/api/v1/jobs/{{job.json()['job_id']}}?wait=20")
            status = done.json()["data"]["status"]
        assert status == "completed", done.text
    sdk = ("opentelemetry.sdk", "opentelemetry.exporter")
    loaded = sorted(m for m in sys.modules if m.startswith(sdk))
    print(loaded, tracing_state())

def tracing_state() -> object:
    from practicegen import tracing
    return (tracing.active(), tracing.traceparent(), tracing.current_ids())

asyncio.run(main())
"""


def test_off_no_sdk_is_loaded_and_no_context_is_kept(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", OFF_RUN],
        cwd=REPO,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] (False, None, None)", result.stdout
    database = tmp_path / "practicegen.db"
    kept = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
            "'SELECT count(*), count(traceparent) FROM jobs').fetchone())",
            str(database),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert kept.stdout.strip() == "(1, 0)"  # the job, and no trace context in it


HIDDEN_SDK = """
import sys
sys.modules["opentelemetry.sdk"] = None  # as where the `tracing` extra is not installed
from practicegen.cli import main
sys.argv = ["practicegen", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_an_endpoint_without_the_sdk_is_refused_before_anything_starts(
    tmp_path: Path, command: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN_SDK, *command],
        cwd=tmp_path,
        env={
            **cli_env(tmp_path),
            "PYTHONPATH": str(REPO),
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'practicegen[tracing]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no database was made


def test_an_endpoint_that_is_no_url_is_refused(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", PRACTICEGEN_OTLP_ENDPOINT="localhost:4318")
    assert result.returncode == 2
    assert "OTLP endpoint is an http:// or https:// URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.start(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"), exporter)
    try:
        yield exporter
    finally:
        tracing.stop()


def test_no_secret_leaves_in_a_span(exported: InMemorySpanExporter) -> None:
    with tracing.consumer_span(
        f"job for {STUDENT_TOKEN}", None, {"url.query": f"token={STUDENT_TOKEN}&page=2"}
    ):
        tracing.annotate(
            {"note": f"Authorization: Bearer {ADMIN_KEY}", "hook": "https://u:pw@h/x?api_key=k1"}
        )
        with tracing.http_span("POST", "https://user:hunter2@hooks.example/in?sig=abc&x=1"):
            tracing.responded(503)
        tracing.failed(RuntimeError(f"model said {ADMIN_KEY}"), description=f"key {ADMIN_KEY}")
    tracing.flush()
    (post, job) = exported.get_finished_spans()
    text = post.to_json() + job.to_json()
    for secret in (STUDENT_TOKEN, ADMIN_KEY, "hunter2", "k1", "sig=abc"):
        assert secret not in text, secret
    assert job.attributes is not None and job.attributes["url.query"] == "token=[redacted]&page=2"
    assert post.attributes is not None
    assert post.attributes["url.full"] == "https://[redacted]@hooks.example/in?sig=[redacted]&x=1"
    assert post.attributes["http.response.status_code"] == 503 and not post.status.is_ok
    assert job.status.description == f"key pgen_sk_[redacted]{ADMIN_KEY[-4:]}"


def test_a_hostile_reply_cannot_bloat_a_span(exported: InMemorySpanExporter) -> None:
    with tracing.client_span("chat m", {}):
        tracing.annotate({"gen_ai.response.model": "m" * 1_000_000})
    tracing.flush()
    (span,) = exported.get_finished_spans()
    assert span.attributes is not None
    assert len(str(span.attributes["gen_ai.response.model"])) <= 4096


@pytest.mark.parametrize(
    "offered",
    [
        "00-" + "f" * 5000 + "-00f067aa0ba902b7-01",  # too long
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # the invalid trace id
        f"00-{TRACE_ID}-00f067aa0ba902b7-01\r\nx-injected: 1",
    ],
)
async def test_a_hostile_traceparent_starts_a_trace_of_our_own(
    settings: Settings,
    sessionmaker: SessionMaker,
    exported: InMemorySpanExporter,
    offered: str,
) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "traceparent": offered}
    async with started_app(settings) as app, in_process_client(app, headers=headers) as http:
        student = (await http.post("/api/v1/students", json={"display_name": "A"})).json()
        created = await http.post(
            "/api/v1/practice/assign/async",
            json={
                "student_id": student["data"]["student_id"],
                "subject": "Arithmetic",
                "num_items": 1,
            },
        )
        assert created.status_code == 202, created.text
    async with sessionmaker() as session:
        (kept,) = (await session.execute(select(Job.traceparent))).scalars().all()
    assert kept is not None and W3C_TRACEPARENT.fullmatch(kept), kept
    assert TRACE_ID not in kept and "f" * 64 not in kept


@pytest.mark.parametrize("collector", ["refuses", "never answers"])
def test_stopping_waits_on_a_dead_collector_seconds_only(tmp_path: Path, collector: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if collector == "never answers":
            listener.listen()  # the connection is taken and no byte comes back
        else:
            listener.close()  # nothing listens on the port
        settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").model_copy(
            update={"otlp_endpoint": f"http://127.0.0.1:{port}"}
        )
        assert tracing.start(settings)
        for n in range(3):
            with tracing.consumer_span(f"job {n}", None, {}):
                pass
        started = time.monotonic()
        tracing.stop()
        took = time.monotonic() - started
    assert not tracing.active()
    # the exporter alone would go on retrying for its 10 s request limit, and the provider's
    # own exit hook would wait 30 s for it
    assert took < STOP_LIMIT_S + 2
    if collector == "never answers":
        assert took > STOP_LIMIT_S - 0.5  # it did wait for the spans to go
