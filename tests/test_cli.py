"""The `practicegen` command as a newcomer runs it: a process in an empty directory, each
command at least once in a new interpreter (`run_cli_fresh`), as a shell starts it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from tests.cli.support import assert_explained, cli_env, run_cli, run_cli_fresh
from tests.support.server import free_port
from tests.support.stub_http import http_server


@pytest.fixture(scope="module")
def fresh_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`practicegen serve` on the embedded default in an empty directory; yields (url, key).

    One for the module: its tests touch none of each other's data, and the first of them
    meets the server's caches cold."""
    workdir = tmp_path_factory.mktemp("fresh-serve")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "practicegen", "serve", "--port", str(port)],
        cwd=workdir,
        env=cli_env(workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        key = proc.stdout.readline().strip()  # the admin key, printed once, on stdout
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not become ready")
        yield base, key
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_fresh_serve_answers_the_guide_request_at_once(fresh_serve: tuple[str, str]) -> None:
    base, key = fresh_serve
    assert key.startswith("pgen_sk_")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        student = http.post("/api/v1/students", json={"display_name": "Ada"}).json()["data"]
        body = {
            "student_id": student["student_id"],
            "subject": "Algebra",
            "num_items": 5,
            "topic": "Linear Equations",
        }
        for which in ("first (cold caches)", "second"):
            started = time.perf_counter()
            response = http.post("/api/v1/practice/assign", json=body)
            elapsed = time.perf_counter() - started
            data = response.json()["data"]
            assert response.status_code == 200 and len(data["items"]) == 5
            assert data["bank_count"] == 5 and data["warnings"] == []
            assert all(
                i["topic"] == "Linear Equations" and i["source"] == "demo" for i in data["items"]
            )
            assert elapsed < 1.0, elapsed
            print(f"\nthe guide's request, {which}, on a fresh serve: {elapsed * 1000:.0f} ms")
        demo = http.get("/api/v1/items", params={"subject": "Arithmetic", "limit": 1}).json()
        assert demo["data"]["items"], "the demo bank has Arithmetic items"


def test_auth_off_is_refused_off_loopback(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--host", "0.0.0.0", PRACTICEGEN_AUTH="off")
    assert result.returncode == 2
    assert "refused" in result.stderr


def test_worker_on_sqlite_says_it_needs_postgresql(tmp_path: Path) -> None:
    result = run_cli_fresh(tmp_path, "worker")
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr and "postgresql://" in result.stderr
    assert "practicegen serve` runs every job itself" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no log


def test_db_upgrade_status_and_key_creation(tmp_path: Path) -> None:
    (tmp_path / "practicegen.db").touch()  # an empty database: every migration pending
    pending = run_cli_fresh(tmp_path, "db", "status")
    assert pending.returncode == 1 and "pending: run `practicegen db upgrade`" in pending.stderr
    assert "Applied: 001, 002, 003, 005" in run_cli_fresh(tmp_path, "db", "upgrade").stdout
    assert "Already up to date." in run_cli(tmp_path, "db", "upgrade").stdout
    assert run_cli(tmp_path, "db", "status").returncode == 0
    created = run_cli_fresh(tmp_path, "keys", "create", "--name", "backend")
    assert created.returncode == 0 and created.stdout.strip().startswith("pgen_sk_")


def test_bank_import_reports_rejected_rows(tmp_path: Path) -> None:
    from tests.api.factories import item_body

    path = tmp_path / "bank.json"
    rows = [
        item_body(),
        item_body(stem="Solve $5x = 10$."),
        {"stem": "no subject"},
        item_body(type="numeric", stem="Half of 8?", answer="four", answer_policy="equivalent"),
    ]
    path.write_text(json.dumps({"format": "practicegen-bank", "version": 1, "items": rows}))
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    result = run_cli_fresh(tmp_path, "bank", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "Imported 2" in result.stdout and "rejected 2" in result.stdout
    assert "row 3:" in result.stdout and "subject" in result.stdout
    assert "row 4: answer:" in result.stdout and "'four'" in result.stdout
    not_json = tmp_path / "bad.json"
    not_json.write_text("{")
    assert run_cli(tmp_path, "bank", "import", str(not_json)).returncode == 2


def test_jobs_commands_follow_list_and_refuse(fresh_serve: tuple[str, str], tmp_path: Path) -> None:
    base, key = fresh_serve
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        student = http.post("/api/v1/students", json={}).json()["data"]["student_id"]
        job = http.post(
            "/api/v1/practice/assign/async",
            json={"student_id": student, "subject": "Geometry", "num_items": 3},
        ).json()
    env = {"PRACTICEGEN_URL": base, "PRACTICEGEN_API_KEY": key}
    shown = run_cli_fresh(tmp_path, "jobs", "show", job["job_id"], "--follow", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    whole = json.loads(shown.stdout)
    assert whole["status"] == "completed" and len(whole["result"]["items"]) == 3
    summary = run_cli(tmp_path, "jobs", "show", job["job_id"], **env)
    assert summary.returncode == 0 and "completed (100%)" in summary.stdout
    assert f"assignment_id={whole['result']['assignment_id']}" in summary.stdout
    assert "items: 3 entries" in summary.stdout and "--json" in summary.stderr
    assert whole["result"]["items"][0]["stem"] not in summary.stdout
    listed = run_cli_fresh(tmp_path, "jobs", "list", **env)
    assert listed.returncode == 0 and job["job_id"] in listed.stdout
    assert "Job workers: 1 running (seen within 20 s)." in listed.stdout  # serve's own
    refused = run_cli_fresh(tmp_path, "jobs", "cancel", job["job_id"], **env)
    assert_explained(refused, 1, "The server refused: 409 job_not_cancellable")


def test_jobs_without_a_server_a_key_or_the_right_url(
    fresh_serve: tuple[str, str], tmp_path: Path
) -> None:
    base, _key = fresh_serve
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = run_cli(tmp_path, "jobs", "list", PRACTICEGEN_URL=nobody)
    assert_explained(
        unreachable, 3, f"Cannot reach a practicegen server at {nobody}", "practicegen serve"
    )
    keyless = run_cli(tmp_path, "jobs", "list", PRACTICEGEN_URL=base)
    assert_explained(keyless, 1, "401 not_authenticated", "--key or PRACTICEGEN_API_KEY")
    wrong = run_cli(tmp_path, "jobs", "show", "../students", "--url", base)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    not_http = run_cli(tmp_path, "jobs", "list", "--url", "ftp://127.0.0.1")
    assert_explained(not_http, 2, "is not an http:// or https:// URL")
    with other_http_server() as other:
        asked = [  # a page; JSON in practicegen's envelope, wrongly filled
            ("jobs", "list", "--url", other),
            ("jobs", "list", "--url", f"{other}/json"),
            ("jobs", "show", str(uuid.uuid4()), "--url", f"{other}/json"),
        ]
        for command in asked:
            elsewhere = run_cli(tmp_path, *command, PRACTICEGEN_API_KEY="k")
            assert_explained(elsewhere, 3, "with something other than practicegen's API", "--url")
    assert list(tmp_path.iterdir()) == []


@contextmanager
def other_http_server() -> Iterator[str]:
    """A web server that is not practicegen: a page of HTML, or under /json an envelope like
    practicegen's holding something else."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            as_json = self.path.startswith("/json")
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if as_json else "text/html")
            self.end_headers()
            odd = {"success": True, "data": {"items": [{"job_id": "[b]x"}], "job_id": 7}}
            self.wfile.write(json.dumps(odd).encode() if as_json else b"<p>[b]hello[/b]</p>")

        def log_message(self, *args: object) -> None:
            pass

    with http_server(Page) as url:
        yield url
