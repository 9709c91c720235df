"""The README as a newcomer meets it: its first commands, and its walk-through run as written.

The walk-through's bash blocks run, from the README's own text, in a fresh directory holding
only `.venv` (this test's environment, as the install command above it makes one), on a free
port, with an environment free of the service's settings; each reply it prints is checked.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

from tests.support.doc_commands import ROOT, base_environment, blocks, run_bash, section
from tests.support.server import free_port

README = (ROOT / "README.md").read_text(encoding="utf-8")
WALK_THROUGH = "A walk-through with curl"


def _walk_through() -> str:
    found = [b for b in blocks(section(README, WALK_THROUGH)) if b.language == "bash"]
    assert found, f"the README's {WALK_THROUGH!r} section holds no bash block"
    return "\n".join(b.body for b in found)


def _fresh_directory(tmp_path: Path) -> Path:
    """A directory as the install leaves it, its `.venv` being the one running this test."""
    assert (Path(sys.prefix) / "bin" / "practicegen").exists(), (
        "run the tests from the virtual environment the README's install command makes"
    )
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return workdir


def _data(reply: Any) -> dict[str, Any]:
    assert isinstance(reply, dict), reply
    assert reply.get("success") is True, reply
    data: dict[str, Any] = reply["data"]
    return data


def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    workdir = _fresh_directory(tmp_path)
    run = run_bash(
        _walk_through(),
        cwd=workdir,
        env=base_environment(HOME=str(tmp_path), PORT=str(free_port())),
        timeout_s=240,
    )
    assert run.returncode == 0, run.explain()
    ready, student, assigned, read_back, graded, accepted, job = run.replies()

    assert _data(ready)["status"] == "ready"
    student_id = _data(student)["student_id"]
    assignment = _data(assigned)
    assert assignment["student_id"] == student_id
    assert [i["position"] for i in assignment["items"]] == [1, 2, 3, 4, 5]
    assert _data(read_back)["assignment_id"] == assignment["assignment_id"]
    grade = _data(graded)
    assert (grade["position"], grade["correct"], grade["feedback_code"]) == (1, True, "correct")
    assert {"job_id", "status_url", "websocket_url"} <= set(accepted), accepted
    finished = _data(job)
    assert (finished["job_id"], finished["status"]) == (accepted["job_id"], "completed")
    assert len(finished["result"]["items"]) == 3
    assert (workdir / "practicegen.db").exists(), "serve keeps its database in the directory"


def test_the_readme_starts_with_install_and_serve_then_install_and_test() -> None:
    first, second = [b for b in blocks(README) if b.language == "bash"][:2]
    assert re.search(r"pip install .*&& \.venv/bin/practicegen serve$", first.body.strip())
    assert "pytest" in second.body
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second.body.strip() in ci.splitlines(), ".ci/run must run the README's test command"


def test_the_walk_through_quotes_what_it_sends() -> None:
    """Every line parses as shell words, and no curl silences its failures (`-s` alone)."""
    script = _walk_through()
    shlex.split(script, comments=True)
    for line in script.splitlines():
        if "curl " in line and "readyz" not in line:
            assert "-s " not in line or "-sS" in line, line
