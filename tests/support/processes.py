"""Real `practicegen` processes for multi-process tests: spawn, wait for, signal, kill, read.

Each node is the real command line (`python -m practicegen serve|worker`) with its settings in
its environment, started in its own session so that SIGKILL can take the process down together
with its generator pool, as a lost machine would, and so that cleanup leaves nothing running.
Its stdout and stderr go to files; stderr is the JSON log, which the tests read to learn what
each process did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.server import free_port

T = TypeVar("T")


async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, limit_s: float, what: str, every: float = 0.05
) -> T:
    """Poll `check` until it returns something other than None (or False); fail at the deadline."""
    deadline = time.monotonic() + limit_s
    while True:
        value = await check()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {limit_s} s waiting for {what}")
        await asyncio.sleep(every)


@dataclass
class Node:
    name: str
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    base_url: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr_lines(self) -> list[str]:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The node's structured log records (optionally only those of event `name`)."""
        found = []
        for line in self.stderr_lines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and (name is None or record.get("event") == name):
                    found.append(record)
        return found

    def describe(self, lines: int = 40) -> str:
        tail = "\n".join(self.stderr_lines()[-lines:])
        return f"{self.name} (pid {self.pid}, exit {self.process.poll()}):\n{tail}"

    def send(self, signum: signal.Signals) -> None:
        """Signal the process itself (not its pool), as a supervisor stopping it would."""
        if self.running:
            self.process.send_signal(signum)

    def signal_group(self, signum: signal.Signals) -> None:
        """Signal the process and its generator pool, as a terminal or systemd would."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill_everything(self) -> None:
        """SIGKILL the node's whole process group: the process and its generator pool."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    async def wait_running(self, limit_s: float = 60) -> None:
        """Wait until the node's worker says it runs (its log at INFO, in JSON)."""

        async def running() -> bool:
            if not self.running:
                raise AssertionError(f"{self.name} exited while starting\n{self.describe()}")
            return any(e.get("status") == "running" for e in self.events("worker.status"))

        await wait_until(running, limit_s=limit_s, what=f"{self.name} to run jobs", every=0.1)

    async def wait_exit(self, limit_s: float) -> int:
        async def exited() -> int | None:
            return self.process.poll()

        try:
            return await wait_until(exited, limit_s=limit_s, what=f"{self.name} to exit")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.describe()}") from None


@dataclass
class Cluster:
    """Nodes sharing one database; every node started here is stopped by `close`."""

    database_url: str
    workdir: Path
    settings: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
        env["PRACTICEGEN_POOLS_AT_START"] = "false"  # most nodes here never grade or generate
        env.update(self.settings)
        env["PRACTICEGEN_DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Node:
        stdout_path = self.workdir / f"{name}.stdout"
        stderr_path = self.workdir / f"{name}.stderr"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "practicegen", *args],
                cwd=self.workdir,  # no stray .env file is read
                env=self.environment(env),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        node = Node(name, process, stdout_path, stderr_path)
        self.nodes.append(node)
        return node

    async def start_api(self, name: str, **env: str) -> Node:
        port = free_port()
        node = self.spawn(name, ["serve", "--port", str(port)], env)
        node.base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=node.base_url, timeout=2) as http:

            async def ready() -> bool:
                if not node.running:
                    raise AssertionError(f"API node exited while starting\n{node.describe()}")
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(ready, limit_s=60, what=f"{name} to be ready", every=0.1)
        return node

    def start_worker(self, name: str, *args: str, **env: str) -> Node:
        return self.spawn(name, ["worker", *args], env)

    def close(self) -> None:
        """Kill every node and anything it started; the graceful paths are what tests test."""
        for node in self.nodes:
            node.kill_everything()
