"""Embedded mode loses nothing: `serve` killed with jobs in flight finishes them after a restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
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
        # its jobs take items from the demo bank and never grade: no process pool is needed
        "PRACTICEGEN_POOLS_AT_START": "false",
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


def test_killed_serve_finishes_a_class_batch_after_restart(tmp_path: Path) -> None:
    """The embedded twin of the killed worker mid-batch: every student's job and the batch
    complete once after the restart."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with serve(tmp_path) as (base, proc), httpx.Client(base_url=base, headers=headers) as http:
        students = [
            http.post("/api/v1/students", json={}).json()["data"]["student_id"] for _ in range(6)
        ]
        made = http.post("/api/v1/classes", json={"name": "6B", "student_ids": students})
        class_id = made.json()["data"]["class_id"]
        body = {"subject": "Geometry", "num_items": 20}
        started = http.post(f"/api/v1/classes/{class_id}/assign/async", json=body)
        assert started.status_code == 202, started.text
        batch_id = started.json()["batch_id"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    stored = {str(uuid.UUID(job_id)): status for job_id, status in statuses(tmp_path).items()}
    assert stored[batch_id] in ("pending", "processing")  # killed mid-batch
    with serve(tmp_path) as (base, _proc), httpx.Client(base_url=base, headers=headers) as http:
        deadline = time.monotonic() + 90
        batch = http.get(f"/api/v1/batches/{batch_id}").json()["data"]
        while time.monotonic() < deadline and batch["status"] in ("pending", "processing"):
            time.sleep(0.2)
            batch = http.get(f"/api/v1/batches/{batch_id}").json()["data"]
        assert batch["status"] == "completed" and batch["counts"]["completed"] == len(students)
    with sqlite3.connect(tmp_path / "practicegen.db") as db:
        per_student = db.execute(
            "SELECT student_id, count(*) FROM assignments GROUP BY 1"
        ).fetchall()
        attempts = db.execute(
            "SELECT attempt FROM jobs WHERE job_type = 'practice_batch'"
        ).fetchall()
    assert len(per_student) == len(students) and {n for _, n in per_student} == {1}
    assert len(attempts) == 1  # one batch, its end written once
