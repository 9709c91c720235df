"""What `practicegen serve` writes for people and for machines, run as a user runs it.

On a terminal the log is readable lines; piped (or as PRACTICEGEN_LOG_FORMAT says) it is one
JSON object a line, with nothing else mixed in: what preparing the database did is logged as
events, and the admin key made at a first start goes to stdout alone, where a script reads it
(a terminal gets it with a line saying what it is), never into the log.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from tests.cli.support import cli_env
from tests.support.server import free_port

QUICK = {"PRACTICEGEN_DEMO_BANK": "false", "PRACTICEGEN_LOG_LEVEL": "INFO"}
COLOURS = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Terminal:
    """A pseudo-terminal whose output a thread collects until the other end closes."""

    master: int
    slave: int
    output: bytearray = field(default_factory=bytearray)

    def collect(self) -> None:
        with contextlib.suppress(OSError):  # EIO once the process's end is closed
            while chunk := os.read(self.master, 4096):
                self.output.extend(chunk)

    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


@dataclass
class Run:
    stdout: str
    stderr: str


def lines(text: str) -> list[str]:
    """The text's lines that say something, without a terminal's colour codes."""
    plain = COLOURS.sub("", text.replace("\r", ""))
    return [line for line in plain.splitlines() if line.strip()]


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@contextlib.contextmanager
def terminal() -> Iterator[Terminal]:
    master, slave = pty.openpty()
    tty = Terminal(master, slave)
    reader = threading.Thread(target=tty.collect, daemon=True)
    reader.start()
    try:
        yield tty
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)


def first_serve(
    tmp_path: Path, env: dict[str, str], *, stdout_tty: bool = False, stderr_tty: bool = False
) -> Run:
    """`serve` started on an empty directory until it is ready, then stopped: its output."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        streams: dict[str, Terminal | BinaryIO] = {}
        for name, tty in (("stdout", stdout_tty), ("stderr", stderr_tty)):
            if tty:
                streams[name] = stack.enter_context(terminal())
            else:
                streams[name] = stack.enter_context((tmp_path / name).open("wb"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "practicegen", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=cli_env(tmp_path, PRACTICEGEN_POOLS_AT_START="false", **env),
            stdin=subprocess.DEVNULL,
            stdout=_fd(streams["stdout"]),
            stderr=_fd(streams["stderr"]),
        )
        try:
            _wait_ready(f"http://127.0.0.1:{port}", proc)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return Run(*(_read(streams[name], tmp_path / name) for name in ("stdout", "stderr")))


def _fd(stream: Terminal | BinaryIO) -> int:
    return stream.slave if isinstance(stream, Terminal) else stream.fileno()


def _read(stream: Terminal | BinaryIO, path: Path) -> str:
    return stream.text() if isinstance(stream, Terminal) else path.read_text(encoding="utf-8")


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited while starting"
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                httpx.get(f"{base}/healthz", timeout=1)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become ready")


def test_piped_the_log_is_json_alone_and_the_key_is_stdout_alone(tmp_path: Path) -> None:
    run = first_serve(tmp_path, {"PRACTICEGEN_LOG_LEVEL": "INFO"})
    (key,) = lines(run.stdout)
    assert key.startswith("pgen_sk_")
    logged = lines(run.stderr)
    assert logged and [line for line in logged if not is_json_object(line)] == []
    events = {json.loads(line)["event"]: json.loads(line) for line in logged}
    assert events["db.migrated"]["applied"][0] == "001"
    assert events["bank.demo_loaded"]["items"] > 0
    assert "auth.admin_key_created" in events
    assert key not in run.stderr


@pytest.mark.parametrize(("format_", "tty"), [("auto", True), ("text", False)])
def test_people_get_readable_lines(tmp_path: Path, format_: str, tty: bool) -> None:
    run = first_serve(tmp_path, {**QUICK, "PRACTICEGEN_LOG_FORMAT": format_}, stderr_tty=tty)
    logged = lines(run.stderr)
    assert [line for line in logged if is_json_object(line)] == []
    assert any("auth.admin_key_created" in line for line in logged), logged
    assert any("db.migrated" in line and "applied=" in line for line in logged), logged
    assert lines(run.stdout)[0].startswith("pgen_sk_")


def test_json_when_asked_on_a_terminal_and_the_key_says_what_it_is(tmp_path: Path) -> None:
    env = {**QUICK, "PRACTICEGEN_LOG_FORMAT": "json"}
    run = first_serve(tmp_path, env, stdout_tty=True, stderr_tty=True)
    logged = lines(run.stderr)
    assert logged and all(is_json_object(line) for line in logged), logged
    shown = lines(run.stdout)
    said = next(i for i, line in enumerate(shown) if "admin API key" in line)
    assert "only this once" in shown[said]
    assert shown[said + 1].strip().startswith("pgen_sk_")
