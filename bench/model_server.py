"""The slow model server of the benchmarks, in a process of its own, as a model server would be.

Served inside the benchmark's process, the model shared an event loop with a thousand clients:
a request's arrival (and so its answer, `slow_s` later) waited on the clients' work, and that
wait was counted as the service's. Here it runs `tests/support/fake_llm.py` alone, on uvloop,
answering every question correctly after `--slow-s` seconds. It prints its base URL, and on
SIGUSR1 a JSON list of when each question so far arrived (`time.monotonic()`, one clock for
every process of the machine), for the benchmark's account of where a job's time went.

    python -m bench.model_server --slow-s 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvloop
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm

REPOSITORY = Path(__file__).resolve().parent.parent


async def serve(slow_s: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with running_fake_llm(FakeLlm(default=Mode.SLOW, slow_s=slow_s)) as fake:

        def report() -> None:
            print(json.dumps([r.at for r in fake.requests if r.mode is not None]), flush=True)

        loop.add_signal_handler(signal.SIGUSR1, report)
        print(fake.base_url, flush=True)
        await stop.wait()


@dataclass
class ModelServer:
    """A running model server process: its URL and its answer time."""

    base_url: str
    slow_s: float
    process: asyncio.subprocess.Process

    async def arrivals(self) -> list[float]:
        """When each question so far arrived (`time.monotonic()`)."""
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGUSR1)
        line = await asyncio.wait_for(self.process.stdout.readline(), 10)
        arrivals: list[float] = json.loads(line)
        return arrivals


@contextlib.asynccontextmanager
async def model_server(slow_s: float) -> AsyncIterator[ModelServer]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bench.model_server", "--slow-s", str(slow_s)),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,  # where `bench` is a package
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        yield ModelServer(line.decode().strip(), slow_s, process)
    finally:
        process.terminate()
        await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow-s", type=float, default=30.0)
    args = parser.parse_args()
    uvloop.run(serve(args.slow_s))


if __name__ == "__main__":
    main()
