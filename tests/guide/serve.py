"""A real `practicegen serve` subprocess for running the guide's JavaScript against.

The guide's fetch calls send no Authorization header, so the server runs with
`PRACTICEGEN_AUTH=off` (which `serve` allows on loopback only) and with
`PRACTICEGEN_RUN_WORKER=true`, so the serving process runs the jobs itself on either backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import free_port


@dataclass(frozen=True)
class Serve:
    process: asyncio.subprocess.Process
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.asynccontextmanager
async def practicegen_serve(
    database_url: str, workdir: Path, **settings: str
) -> AsyncIterator[Serve]:
    """`python -m practicegen serve` on a free loopback port, ready (`/readyz` is 200).

    `settings` are extra `PRACTICEGEN_*` variables, e.g. `PRACTICEGEN_SSRF_ALLOWLIST`.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env |= {
        "PRACTICEGEN_DATABASE_URL": database_url,
        "PRACTICEGEN_AUTH": "off",
        "PRACTICEGEN_DEMO_BANK": "false",
        "PRACTICEGEN_RUN_WORKER": "true",
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
        **settings,
    }
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "practicegen",
            "serve",
            "--port",
            str(port),
            cwd=workdir,  # no stray .env file is read
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own group: cleanup also ends its generator pool
        )
    serve = Serve(process, f"http://127.0.0.1:{port}", log_path)
    try:
        await wait_ready(serve)
        yield serve
    finally:
        await stop(process)


async def wait_ready(serve: Serve, limit_s: float = 60.0) -> None:
    """Until `/readyz` says 200: once the node's grading and sympy processes are warm, which on
    a loaded machine takes tens of seconds."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(base_url=serve.base_url, timeout=2) as http:
        while True:
            if serve.process.returncode is not None:
                raise AssertionError(
                    f"practicegen serve exited ({serve.process.returncode}) while starting:\n"
                    f"{serve.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"serve not ready after {limit_s} s:\n{serve.log_tail()}")
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the server, then SIGKILL whatever is left of the group it leads."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await asyncio.wait_for(process.wait(), 10)
