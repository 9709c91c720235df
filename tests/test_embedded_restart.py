"""Embedded mode loses nothing: `serve` killed with jobs in flight finishes them after a restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.support.server import free_port


@contextmanager
def serve(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env |= {
        "PRACTICEGEN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}",
        "PRACTICEGEN_API_KEY": ADMIN_KEY,
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "practicegen", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def statuses(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "practicegen.db") as db:
        return {row[0]: row[1] for row in db.execute("SELECT id, status FROM jobs")}


def test_killed_serve_finishes_its_jobs_after_restart(tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with serve(tmp_path) as (base, proc), httpx.Client(base_url=base, headers=headers) as http:
        student = http.post("/api/v1/students", json={}).json()["data"]["student_id"]
        body = {"student_id": student, "subject": "Geometry", "num_items": 20}
        job_ids = [
            http.post("/api/v1/practice/assign/async", json=body).json()["job_id"] for _ in range(5)
        ]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    before = statuses(tmp_path)
    unfinished = [s for s in before.values() if s in ("pending", "processing")]
    assert unfinished, f"every job finished before the kill; nothing was tested: {before}"
    with serve(tmp_path) as (base, _proc), httpx.Client(base_url=base, headers=headers) as http:
        deadline = time.monotonic() + 60
        done: dict[str, str] = {}
        while time.monotonic() < deadline and len(done) < len(job_ids):
            for job_id in job_ids:
                data = http.get(f"/api/v1/jobs/{job_id}?wait=2").json()["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    done[job_id] = data["status"]
        assert done == {job_id: "completed" for job_id in job_ids}
    with sqlite3.connect(tmp_path / "practicegen.db") as db:
        stored = db.execute("SELECT count(*) FROM assignments").fetchone()[0]
    assert stored == len(job_ids)  # each job's result was written once
