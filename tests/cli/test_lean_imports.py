"""Each command loads only what it runs: `--version` and `--help` no part of the service, the
commands that read a database or speak HTTP no generator, model client or web framework,
`serve` and `worker` with no model configured no model client, and `worker` no web framework;
`serve` (with or without a model) and `worker` leave sympy to their pools' processes, even
once those are started and warm.

Every check runs the real command in a process of its own, which writes down, as it exits,
every module it loaded.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from practicegen.cli.bank import Origin, Standing
from practicegen.cli.jobs import StatusFilter
from practicegen.items.schemas import ItemSource, ItemStatus
from practicegen.jobs.schemas import JobStatus
from tests.cli.support import cli_env
from tests.conftest import ADMIN_KEY, BACKENDS
from tests.support.server import free_port
from tests.support.stub_http import http_server

RECORDED = """
import atexit, json, sys
RECORD = sys.argv[1]
codes = []

def record() -> None:
    with open(RECORD, "w") as out:
        json.dump({"codes": codes, "modules": sorted(sys.modules)}, out)

atexit.register(record)
from practicegen.cli import main
for command in json.loads(sys.argv[2]):
    sys.argv = ["practicegen", *command]
    try:
        main()
    except SystemExit as exit:
        codes.append(exit.code or 0)
"""
"""Runs each command of a list in turn in one interpreter: what they loaded is the union of
what each would load alone, for one start-up's imports."""

MODEL = {"openai", "aiohttp"}
WEB = {"fastapi", "starlette", "uvicorn"}
NOT_FOR_DATA = MODEL | WEB | {"sympy"}
"""What no command that only reads or writes rows, or speaks HTTP, needs."""
HEAVY = NOT_FOR_DATA | {
    "sqlalchemy",
    "psycopg",
    "aiosqlite",
    "pydantic",
    "pydantic_settings",
    "httpx",
    "structlog",
    "opentelemetry",
}
"""What `--version` and `--help` never need: the service's libraries."""
LIGHT_PARTS = {
    "practicegen",
    "practicegen.auth",
    "practicegen.auth.principal",
    "practicegen.clock",
    "practicegen.errors",
    "practicegen.redaction",
}
"""The only modules of the service besides the command line's that `--help` may load."""


def packages(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def start(
    workdir: Path, record: Path, commands: list[list[str]], **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RECORDED, str(record), json.dumps(commands)],
        cwd=workdir,
        env=cli_env(workdir, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_recorded(
    workdir: Path, *commands: list[str], **env: str
) -> tuple[list[int], str, set[str]]:
    """Run `practicegen` with each of `commands`; their exit codes, the stderr and every module
    they loaded."""
    record = workdir / f"modules-{uuid.uuid4().hex}.json"
    process = start(workdir, record, list(commands), **env)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    recorded = json.loads(record.read_text())
    return recorded["codes"], stderr, set(recorded["modules"])


def service_parts(modules: set[str]) -> set[str]:
    """The modules of the service loaded, besides the command line's and the light ones."""
    ours = {name for name in modules if name.startswith("practicegen")}
    return {name for name in ours - LIGHT_PARTS if not name.startswith("practicegen.cli")}


def test_version_and_help_load_no_part_of_the_service(tmp_path: Path) -> None:
    codes, stderr, modules = run_recorded(tmp_path, ["--version"], ["--help"])
    assert codes == [0, 0], stderr
    assert service_parts(modules) == set()
    assert packages(modules) & HEAVY == set()


def test_a_commands_help_loads_only_the_logs_besides(tmp_path: Path) -> None:
    commands = [["keys"], ["bank", "export"], ["jobs", "show"], ["serve"]]
    codes, stderr, modules = run_recorded(tmp_path, *([*c, "--help"] for c in commands))
    assert codes == [0, 0, 0, 0], stderr
    # the root's options are read (typer reads values with pydantic) before a command's help,
    # and configure the logs
    assert service_parts(modules) == {"practicegen.logs"}
    assert packages(modules) & HEAVY == {"structlog", "pydantic"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_database_commands_load_no_generator_model_or_web_framework(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    env = {}
    if backend == "postgres":
        env["PRACTICEGEN_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    commands = [
        ["db", "upgrade"],
        ["db", "status"],
        ["keys", "create", "--name", "lean"],
        ["keys", "list"],
        ["bank", "export", "--output", str(tmp_path / "bank.json")],
    ]
    codes, stderr, modules = run_recorded(tmp_path, *commands, **env)
    assert codes == [0] * len(commands), stderr
    assert packages(modules) & NOT_FOR_DATA == set()


class _JobsApi(BaseHTTPRequestHandler):
    """A service's answers to `jobs list`: one job, and a worker seen."""

    JOB = {
        "job_id": str(uuid.uuid4()),
        "job_type": "practice_generation",
        "status": "completed",
        "progress_percent": 100,
        "progress_message": None,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:01Z",
        "student_id": None,
        "seq": 3,
        "attempt": 1,
        "expires_at": None,
    }

    def do_GET(self) -> None:
        workers = {"workers": {"seen": 1, "stale_after_s": 20.0}}
        data = {"items": [self.JOB]} if self.path.startswith("/api/v1/jobs") else workers
        body = json.dumps({"data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a request is no news here."""


@pytest.fixture
def jobs_api() -> Iterator[str]:
    with http_server(_JobsApi) as url:
        yield url


def test_the_jobs_commands_load_no_part_of_the_service_they_call(
    tmp_path: Path, jobs_api: str
) -> None:
    codes, stderr, modules = run_recorded(tmp_path, ["jobs", "list", "--url", jobs_api])
    assert codes == [0], stderr
    assert packages(modules) & NOT_FOR_DATA == set()


@pytest.mark.parametrize(
    ("pools_at_start", "until"), [("false", "/healthz"), ("true", "/readyz")], ids=["lazy", "warm"]
)
def test_serve_without_a_model_loads_no_model_client_nor_sympy(
    tmp_path: Path, pools_at_start: str, until: str
) -> None:
    modules = run_serve(tmp_path, until, PRACTICEGEN_POOLS_AT_START=pools_at_start)
    assert packages(modules) & MODEL == set()
    assert "sympy" not in packages(modules)


def test_serve_with_a_model_leaves_sympy_to_its_pools_processes(tmp_path: Path) -> None:
    """The model's questions are checked in the sympy processes; serve only asks for them."""
    model = "http://127.0.0.1:9/v1"  # never called: no job runs
    modules = run_serve(tmp_path, "/readyz", PRACTICEGEN_LLM_BASE_URL=model)
    assert "openai" in packages(modules)  # the recording saw the model's filler
    assert "sympy" not in packages(modules)


def run_serve(workdir: Path, until: str, **env: str) -> set[str]:
    """Every module `serve` loaded, once it answered `until` (/readyz: once its pools' processes
    are warm) and then stopped."""
    port = free_port()
    record = workdir / "modules.json"
    serve = start(
        workdir, record, [["serve", "--port", str(port)]], PRACTICEGEN_API_KEY=ADMIN_KEY, **env
    )

    def answered() -> None:
        deadline = time.monotonic() + 90
        while not _answers(port, until):
            assert serve.poll() is None, serve.communicate()[1]
            assert time.monotonic() < deadline, f"serve did not answer {until} in 90 s"
            time.sleep(0.1)

    modules = stopped_once(serve, record, answered)
    assert "fastapi" in packages(modules)  # the recording saw the service itself
    return modules


def stopped_once(
    process: subprocess.Popen[str], record: Path, ready: Callable[[], None]
) -> set[str]:
    """Once `ready` returns, SIGTERM `process`: it must exit 0; every module it loaded."""
    try:
        ready()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    recorded = json.loads(record.read_text())
    assert recorded["codes"] == [0], stderr
    return set(recorded["modules"])


def _answers(port: int, path: str) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.postgres
def test_a_worker_without_a_model_loads_no_model_client_web_framework_nor_sympy(
    tmp_path: Path, postgres_database: str
) -> None:
    record = tmp_path / "modules.json"
    worker = start(
        tmp_path,
        record,
        [["worker", "--drain-seconds", "5"]],
        PRACTICEGEN_DATABASE_URL=postgres_database,
        PRACTICEGEN_LOG_FORMAT="json",
    )

    def running() -> None:
        assert worker.stderr is not None
        for line in worker.stderr:  # until the worker says it takes jobs
            if '"worker.status"' in line and '"running"' in line:
                return
        pytest.fail(f"the worker ended before it ran (exit {worker.wait(timeout=10)})")

    modules = stopped_once(worker, record, running)
    assert "practicegen.jobs.worker" in modules  # the recording saw the worker itself
    assert packages(modules) & (MODEL | WEB | {"sympy"}) == set()


@pytest.mark.parametrize(
    ("offered", "accepted"),
    [(Origin, ItemSource), (Standing, ItemStatus), (StatusFilter, JobStatus)],
)
def test_the_choices_the_commands_offer_are_the_services_own(
    offered: type[StrEnum], accepted: type[StrEnum]
) -> None:
    assert [choice.value for choice in offered] == [value.value for value in accepted]
