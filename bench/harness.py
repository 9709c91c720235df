"""What the HTTP benchmarks share: start a server process, drive it at fixed concurrency, report.

The load generator is a closed loop of `concurrency` workers on one httpx client, each sending
its next request when the last one answered; latency is measured per request from the client.
It shares the machine with the server, so figures are for comparing endpoints measured in the
same run (the ratio), not absolute capacity; `alternate` drives two endpoints in turns, so that
a shared machine's slow spells fall on both alike. Each server's own CPU time (its process,
threads included; not the database's) is read from `/proc` around each turn, so a report can
give the server's CPU per request beside the client's latency.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import httpx

SERVERS: dict[str, int] = {}
"""The process id of each server `server_process` runs, by its base URL."""


def cpu_seconds(base_url: str) -> float:
    """The CPU time (user and system) the server at `base_url` has used; 0 if not ours."""
    pid = SERVERS.get(base_url.rstrip("/"))
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_process(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Run a server command until the block ends; yield its base URL once it answers."""
    with running_server(args, env, port) as (base, _pid):
        yield base


@contextmanager
def running_server(args: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, int]]:
    """Run a server command until the block ends; yield its base URL and process id once it
    answers.

    Its log goes to a temporary file, never to an undrained pipe (a full pipe would stall the
    server on its next log line); warnings and errors in it are printed when the block ends.
    """
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {_read(log)}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            SERVERS[base] = proc.pid
            yield base, proc.pid
        finally:
            SERVERS.pop(base, None)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            _report_trouble(args, _read(log))


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


def _report_trouble(args: list[str], text: str) -> None:
    marks = ("[warning", "[error", '"level": "warning"', '"level": "error"')
    trouble = [line for line in text.splitlines() if any(mark in line for mark in marks)]
    if trouble:
        print(f"{len(trouble)} warnings or errors from {' '.join(args[-4:])}; the first:")
        for line in trouble[:5]:
            print("   ", line[:300])


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    server_cpu_s: float = 0.0

    @classmethod
    def of(
        cls,
        name: str,
        latencies_ms: list[float],
        errors: int,
        seconds: float,
        server_cpu_s: float = 0.0,
    ) -> LoadResult:
        ordered = sorted(latencies_ms)
        return cls(
            name=name,
            requests=len(ordered),
            errors=errors,
            seconds=seconds,
            p50_ms=statistics.median(ordered),
            p99_ms=ordered[int(len(ordered) * 0.99) - 1],
            latencies_ms=ordered,
            server_cpu_s=server_cpu_s,
        )

    @classmethod
    def merged(cls, parts: list[LoadResult]) -> LoadResult:
        return cls.of(
            parts[0].name,
            [latency for part in parts for latency in part.latencies_ms],
            sum(part.errors for part in parts),
            sum(part.seconds for part in parts),
            sum(part.server_cpu_s for part in parts),
        )

    @property
    def cpu_ms_per_request(self) -> float:
        """The server's CPU per request answered (0 when it was not measured)."""
        return 1000 * self.server_cpu_s / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.rps:8.1f} req/s  p50 {self.p50_ms:7.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  server CPU {self.cpu_ms_per_request:5.2f} ms/req  "
            f"({self.requests} requests, {self.errors} errors)"
        )


RequestFactory = Callable[[int], httpx.Request]


async def drive(
    name: str, client: httpx.AsyncClient, make: RequestFactory, *, concurrency: int, seconds: float
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    counter = 0

    async def worker() -> None:
        nonlocal errors, counter
        while time.perf_counter() < stop:
            counter += 1
            request = make(counter)
            started = time.perf_counter()
            response = await client.send(request)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                errors += 1

    base = str(client.base_url)
    began, cpu_began = time.perf_counter(), cpu_seconds(base)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu = cpu_seconds(base) - cpu_began
    return LoadResult.of(name, latencies, errors, time.perf_counter() - began, cpu)


Driven = tuple[str, httpx.AsyncClient, RequestFactory]


async def alternate(
    first: Driven, second: Driven, *, concurrency: int, seconds: float, rounds: int
) -> tuple[LoadResult, LoadResult]:
    """Drive `first` and `second` in turns, `rounds` times each for `seconds / rounds`."""
    parts: tuple[list[LoadResult], list[LoadResult]] = ([], [])
    for _ in range(rounds):
        for (name, client, make), results in zip((first, second), parts, strict=True):
            share = seconds / rounds
            results.append(await drive(name, client, make, concurrency=concurrency, seconds=share))
    return LoadResult.merged(parts[0]), LoadResult.merged(parts[1])


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a comparison: the server that answers it (a command given its port, and
    environment), its name in the report, the headers its client sends, and its next request."""

    name: str
    command: Callable[[int], list[str]]
    env: dict[str, str]
    request: Callable[[httpx.AsyncClient], httpx.Request]
    headers: dict[str, str] = field(default_factory=dict)


async def compare(
    baseline: Endpoint, measured: Endpoint, *, concurrency: int, seconds: float, rounds: int
) -> tuple[LoadResult, LoadResult]:
    """Start both servers, warm each up for a second, then drive them in turns (`alternate`)."""
    limits = httpx.Limits(max_connections=concurrency)
    ports = free_port(), free_port()
    with (
        server_process(baseline.command(ports[0]), baseline.env, ports[0]) as baseline_base,
        server_process(measured.command(ports[1]), measured.env, ports[1]) as measured_base,
    ):
        async with (
            httpx.AsyncClient(
                base_url=baseline_base, limits=limits, headers=baseline.headers
            ) as baseline_client,
            httpx.AsyncClient(
                base_url=measured_base, limits=limits, headers=measured.headers
            ) as measured_client,
        ):
            first = _driven(baseline, baseline_client)
            second = _driven(measured, measured_client)
            for _name, client, make in (first, second):
                await drive("warm-up", client, make, concurrency=2, seconds=1)
            return await alternate(
                first, second, concurrency=concurrency, seconds=seconds, rounds=rounds
            )


def _driven(endpoint: Endpoint, client: httpx.AsyncClient) -> Driven:
    return endpoint.name, client, lambda _: endpoint.request(client)


def python() -> str:
    return sys.executable


def serve_command(port: int) -> list[str]:
    """`practicegen serve` on `port`."""
    return [python(), "-m", "practicegen", "serve", "--port", str(port)]


def bare_command(port: int) -> list[str]:
    """The baseline app of `bench/bare_app.py`, served by uvicorn like the service."""
    return [
        python(),
        "-m",
        "uvicorn",
        "--factory",
        "bench.bare_app:create",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
