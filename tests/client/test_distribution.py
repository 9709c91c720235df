"""The client as its own distribution: what installing it pulls in, what importing it loads,
and a blocking twin for every coroutine of `AsyncClient`."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import practicegen_client
from practicegen_client import AsyncClient, Client, JobHandle, SyncJobHandle

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "python"
SERVER_STACK = {"practicegen", "fastapi", "starlette", "sqlalchemy", "sympy", "uvicorn", "openai"}


def test_installing_the_client_pulls_in_none_of_the_server_stack(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"),
            *("--quiet", "--report", str(report), f"{PACKAGE}[websockets]"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    names = {
        entry["metadata"]["name"].lower().replace("_", "-")
        for entry in json.loads(report.read_text())["install"]
    }
    assert {"practicegen-client", "httpx", "pydantic", "websockets"} <= names
    assert names.isdisjoint(SERVER_STACK | {"pgqueuer", "psycopg", "aiosqlite"}), names


def test_the_client_imports_without_the_server_stack() -> None:
    code = (
        "import sys, practicegen_client; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *SERVER_STACK], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_client_is_typed() -> None:
    assert (Path(practicegen_client.__file__).parent / "py.typed").exists()


def public_coroutines(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }


def test_every_coroutine_has_a_blocking_twin_with_its_signature() -> None:
    for async_cls, sync_cls in ((AsyncClient, Client), (JobHandle, SyncJobHandle)):
        names = public_coroutines(async_cls)
        assert names - {"aclose"} <= set(vars(sync_cls)), sync_cls.__name__
        for name in names - {"aclose"}:
            ours = inspect.signature(getattr(sync_cls, name))
            theirs = inspect.signature(getattr(async_cls, name))
            assert list(ours.parameters) == list(theirs.parameters), name


def test_ci_runs_the_readme_test_command_which_installs_the_client() -> None:
    root = PACKAGE.parents[1]
    readme = (root / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.endswith("python -m pytest"))
    assert "-e clients/python" in command
    assert command in (root / ".ci" / "run").read_text().splitlines()
