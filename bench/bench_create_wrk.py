"""Async job creation under a C load generator (wrk), beside bare endpoints doing the least it must.

    python bench/bench_create_wrk.py [--seconds 8] [--rounds 2] [--connections 32]

Four servers are up at once, each driven in turn by `wrk` (2 threads, `--connections`
connections), `--rounds` times for `--seconds` each:

- bare PostgreSQL: `bench/bare_app.py`'s `POST /bare/job`, one INSERT and one NOTIFY in a
  transaction through a psycopg pool;
- practicegen on PostgreSQL: `POST /api/v1/practice/assign/async` on an API process that runs
  no worker;
- bare SQLite: the same bare app on SQLite, one INSERT and a commit through the service's engine;
- embedded: `practicegen serve` on SQLite, its worker off, the same async assign.

For each: requests per second, wrk's p99 latency, and the server process's CPU per request (its
utime + stime from /proc over the run, over the requests wrk completed); then the ratios the aims
are stated in; on PostgreSQL also what the database's active sessions waited on, sampled. The
load generator shares the machine with the servers, so compare within a run.
Needs `wrk` on PATH (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench.bench_assign import KEY, seed
from bench.bench_jobs import env_for
from bench.harness import bare_command, free_port, running_server, serve_command
from practicegen.config import Settings

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """One server under load: its name, command, environment, path and wrk script."""

    name: str
    command: list[str]
    env: dict[str, str]
    path: str
    script: Path
    port: int
    waits: WaitEvents | None = None
    rounds: list[tuple[int, float, float, int]] = field(default_factory=list)
    """(requests, seconds, p99 ms, server CPU ticks) per round."""

    @property
    def rps(self) -> float:
        return sum(r[0] for r in self.rounds) / sum(r[1] for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return sum(r[2] for r in self.rounds) / len(self.rounds)

    @property
    def cpu_ms(self) -> float:
        return 1000 * _TICK_S * sum(r[3] for r in self.rounds) / sum(r[0] for r in self.rounds)

    def line(self) -> str:
        p99s = "/".join(f"{r[2]:.1f}" for r in self.rounds)
        return (
            f"{self.name:<24} {self.rps:8.1f} req/s  p99 {self.p99_ms:7.1f} ms ({p99s})  "
            f"server CPU {self.cpu_ms:.2f} ms per request"
        )


def lua(path: Path, *, key: str | None = None, students: Sequence[str] = ()) -> Path:
    """A wrk script that POSTs; with `students`, the guide's async body for each in turn."""
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    if key is not None:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {key}"')
    if students:
        listed = ", ".join(f'"{s}"' for s in students)
        lines += [
            f"local students = {{{listed}}}",
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            '  local body = \'{"student_id": "\' .. students[(n % #students) + 1] .. '
            '\'", "subject": "Algebra", "num_items": 5}\'',
            "  return wrk.format(nil, nil, nil, body)",
            "end",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


class WaitEvents:
    """What the database's active sessions wait on, sampled every 20 ms while a block runs."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.counts: Counter[str] = Counter()

    @contextlib.contextmanager
    def sampling(self) -> Iterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=self._sample, args=(stop,))
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _sample(self, stop: threading.Event) -> None:
        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity"
            " WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(postgres.conninfo(self.database), autocommit=True) as conn:
            while not stop.wait(0.02):
                self.counts.update(row[0] for row in conn.execute(query, (self.database,)))

    def line(self) -> str:
        total = sum(self.counts.values()) or 1
        top = ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in self.counts.most_common(4))
        return f"  waits of its active sessions: {top}"


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def wrk(target: Target, base: str, connections: int, seconds: float) -> tuple[int, float, float]:
    """(requests, seconds, p99 ms) of one wrk run; non-2xx answers fail the benchmark."""
    load = [f"-c{connections}", f"-d{round(seconds)}s", "-s", str(target.script)]
    out = subprocess.run(
        ["wrk", "-t2", *load, "--latency", base + target.path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{target.name} answered errors:\n{out}")
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)", out)
    assert done is not None and p99 is not None, out
    elapsed = float(done[2]) * (0.001 if done[3] == "ms" else 1)
    return int(done[1]), elapsed, float(p99[1]) * _UNITS_MS[p99[2]]


def run(targets: list[Target], args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        bases = {
            t.name: stack.enter_context(running_server(t.command, t.env, t.port)) for t in targets
        }
        for target in targets:  # warm up
            wrk(target, bases[target.name][0], 4, 1)
        for _ in range(args.rounds):
            for target in targets:
                base, pid = bases[target.name]
                before = cpu_ticks(pid)
                with target.waits.sampling() if target.waits else contextlib.nullcontext():
                    requests, seconds, p99 = wrk(target, base, args.connections, args.seconds)
                target.rounds.append((requests, seconds, p99, cpu_ticks(pid) - before))
    for target in targets:
        print(target.line())
        if target.waits is not None:
            print(target.waits.line())
    bare_pg, pg, bare_sqlite, embedded = targets
    print(
        f"practicegen / bare on PostgreSQL: throughput {pg.rps / bare_pg.rps:.2f}x (aim >= 0.6), "
        f"p99 {pg.p99_ms / bare_pg.p99_ms:.2f}x (aim <= 3), "
        f"server CPU per request {pg.cpu_ms / bare_pg.cpu_ms:.2f}x (aim <= 1.5)"
    )
    print(
        f"embedded / bare SQLite: throughput {embedded.rps / bare_sqlite.rps:.2f}x (aim >= 0.5), "
        f"p99 {embedded.p99_ms / bare_sqlite.p99_ms:.2f}x, "
        f"server CPU per request {embedded.cpu_ms / bare_sqlite.cpu_ms:.2f}x"
    )


async def seeded(url: str) -> list[str]:
    settings = Settings(_env_file=None, database_url=url, api_key=KEY, demo_bank=False)
    return [str(s) for s in await seed(settings, 2000, 200)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH (apt-get install wrk)")
    name = postgres.create_database(prefix="pgbenchwrk")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            pg_url = postgres.database_url(name)
            sqlite_url = f"sqlite+aiosqlite:///{folder / 'embedded.db'}"
            bare_sqlite_url = f"sqlite+aiosqlite:///{folder / 'bare.db'}"
            students = asyncio.run(seeded(pg_url))
            sqlite_students = asyncio.run(seeded(sqlite_url))
            bare = lua(folder / "bare.lua")
            no_worker = {"PRACTICEGEN_RUN_WORKER": "false"}
            ports = [free_port() for _ in range(4)]
            targets = [
                Target("bare PostgreSQL", bare_command(ports[0]), env_for(pg_url), "/bare/job",
                       bare, ports[0], WaitEvents(name)),
                Target("practicegen PostgreSQL", serve_command(ports[1]),
                       env_for(pg_url, **no_worker), "/api/v1/practice/assign/async",
                       lua(folder / "pg.lua", key=KEY, students=students), ports[1],
                       WaitEvents(name)),
                Target("bare SQLite", bare_command(ports[2]), env_for(bare_sqlite_url),
                       "/bare/job", bare, ports[2]),
                Target("embedded", serve_command(ports[3]), env_for(sqlite_url, **no_worker),
                       "/api/v1/practice/assign/async",
                       lua(folder / "sqlite.lua", key=KEY, students=sqlite_students), ports[3]),
            ]  # fmt: skip
            run(targets, args)
    finally:
        postgres.drop_database(name)


if __name__ == "__main__":
    main()
