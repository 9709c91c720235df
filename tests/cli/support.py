"""Running `practicegen` as a user does: a real process, in a folder of its own, with only the
settings the test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env["PRACTICEGEN_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'practicegen.db'}"
    env["COLUMNS"] = "100"
    env.update(extra)
    return env


def run_cli(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "practicegen", *args],
        cwd=workdir,
        env=cli_env(workdir, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_explained(
    result: subprocess.CompletedProcess[str], exit_code: int, *phrases: str
) -> str:
    """The command failed with `exit_code` and one paragraph on stderr holding `phrases`: no
    traceback, no log line, nothing on stdout. Returns the message."""
    message = result.stderr.strip()
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr, result.stderr
    assert "\n\n" not in message and not message.startswith("{"), message
    assert result.stdout == "", result.stdout
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    return message
