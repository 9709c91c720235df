"""Jobs bound by a slow model, on default settings: near the model's own latency, and cheap?

    python bench/bench_llm_jobs.py                                  # 400 jobs, a 2 s model
    python bench/bench_llm_jobs.py --jobs 1000 --slow-s 30          # 1,000 jobs, a 30 s model
    python bench/bench_llm_jobs.py --jobs 1 --questions 5 --slow-s 30 --backend embedded

The model is the OpenAI-compatible test server (`tests/support/fake_llm.py`) answering every
question correctly after `--slow-s` seconds, in a process of its own (`model_server.py`). The
item bank is empty and each job asks for a topic of its own, so no job finds in the bank what
another wrote: every question is written by the model and checked with sympy.

The baseline, measured first in the same run, is a bare asyncio script (`bare_model_calls.py`)
making the same model calls at once and running the same sympy checks. Then, on default
settings (but for the one tenant's in-flight limit): on PostgreSQL an API process that runs no
worker and one `practicegen worker`; on SQLite one `practicegen serve` that runs its jobs.
A client per job creates it and long-polls it on a connection of its own; the burst's time runs
from the first creation to the last job seen completed, and its ratio to the bare script's is
the figure to hold. A creation or poll whose connection the server closed is a dropped
connection, counted apart from 503s (sent again after their `Retry-After`).

Also printed: the peak RSS of the process that runs the jobs (and the PSS of it with its sympy
processes); the CPU time the practicegen processes (worker, its sympy processes, API) spent per
job, this process (the clients) and the model server; on PostgreSQL the database's CPU, its
account of each job's `finished_at - created_at`, the stages of the pipeline, and the
transactions committed per job.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench.bare_model_calls import BareRun, bare_calls
from bench.bench_jobs import env_for
from bench.harness import free_port, python, serve_command, server_process
from bench.model_server import ModelServer, model_server
from bench.procstat import (
    child_pid,
    cpu_seconds,
    database_server_cpu_seconds,
    family_cpu_seconds,
    peak_memory_mb,
    sampled,
)

BODY = {"subject": "Algebra"}


@dataclass
class Burst:
    """What the clients saw of one burst."""

    seconds: float = 0.0  # first creation to last job seen completed
    created_s: float = 0.0  # first creation to last 202
    times: list[float] = field(default_factory=list)  # each job: its 202 to seen completed
    dropped: int = 0  # requests whose connection the server closed
    busy: int = 0  # requests answered 503
    polls: int = 0


async def run_jobs(base: str, key: str, jobs: int, questions: int) -> Burst:
    """Create `jobs` jobs at once and follow each to its end, as `Burst` tells.

    Each job has a connection of its own (as a client per job would), so its completion is seen
    when it happens, not when another job's long-poll gives a shared connection back. A request
    answered 503, or whose kept-alive connection the server closed, is sent again (creation with
    the same `Idempotency-Key`) and counted. The clients are aiohttp's: they share the machine's
    two cores with the service, and httpx spent about three times their CPU per request.
    """
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=jobs + 10)
    timeout = aiohttp.ClientTimeout(total=300)
    seen = Burst()
    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as client:
        students = []
        for _ in range(min(jobs, 50)):
            async with client.post("/api/v1/students", json={}) as response:
                students.append((await response.json())["data"]["student_id"])
        burst = time.perf_counter()

        async def send(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
            while True:
                try:
                    async with client.request(method, url, **kwargs) as response:
                        if response.status != 503:
                            return response.status, await response.json()
                        retry_after = float(response.headers.get("retry-after", "1"))
                except aiohttp.ClientConnectionError:
                    seen.dropped += 1
                    continue
                seen.busy += 1
                await asyncio.sleep(retry_after)

        async def one(index: int) -> float:
            student = students[index % len(students)]
            body = BODY | {"student_id": student, "topic": f"Burst {index}", "num_items": questions}
            idempotent = {"Idempotency-Key": f"bench-{index}"}
            url = "/api/v1/practice/assign/async"
            status, accepted = await send("POST", url, json=body, headers=idempotent)
            assert status == 202, accepted
            started = time.perf_counter()
            seen.created_s = max(seen.created_s, started - burst)
            job_id = accepted["job_id"]
            while True:
                seen.polls += 1
                status, polled = await send("GET", f"/api/v1/jobs/{job_id}", params={"wait": 20})
                assert status == 200, polled
                data = polled["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    assert data["status"] == "completed", data
                    return time.perf_counter() - started

        seen.times = list(await asyncio.gather(*(one(i) for i in range(jobs))))
        seen.seconds = time.perf_counter() - burst
    return seen


def database_counts(name: str) -> tuple[int, int]:
    """Transactions committed or rolled back in database `name`, and connections opened to it
    (from its backends' flushed stats)."""
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def workers_connected(name: str) -> int:
    """Connections to database `name` a worker opened (its queue managers name themselves)."""
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = 'practicegen-worker'",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


async def worker_ready(name: str) -> None:
    """Wait until the worker's queue managers (the jobs' and the webhook lane's) are
    connected: it has started its sympy processes and takes jobs."""
    deadline = time.monotonic() + 60
    while await asyncio.to_thread(workers_connected, name) < 2:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not connect within 60 s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # its first dequeue and LISTEN


def stored_timings(name: str) -> str:
    """What the jobs table says: run times and attempts, as measured by the database."""
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY done), max(done),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY queued), max(queued),"
            " sum(attempt), count(*) FILTER (WHERE attempt > 1), sum(written)"
            " FROM (SELECT extract(epoch FROM finished_at - created_at) AS done,"
            " extract(epoch FROM started_at - created_at) AS queued, attempt,"
            " (result #>> '{metadata,generation,llm,accepted}')::int AS written"
            " FROM jobs WHERE job_type = 'practice_generation') AS jobs"
        ).fetchone()
    assert row is not None
    count, p50, worst, queued_p50, queued_max, attempts, retried, written = row
    return (
        f"stored finished_at - created_at: p50 {p50:.2f} s, max {worst:.2f} s "
        f"(of which queued before the last attempt started: p50 {queued_p50:.2f} s, "
        f"max {queued_max:.2f} s); {attempts} attempts for {count} jobs "
        f"({retried} jobs took more than one); {written} questions written by the model"
    )


async def stages(name: str, fake: ModelServer) -> str:
    """Where a job's time went: each stage's lag, p50 / max over the jobs.

    The database gives each job's creation and start; the model server the arrival of each
    model request (one per job here), answered `slow_s` later. Requests are not tied to jobs,
    so the k-th request to arrive is paired with the k-th job to start, and the k-th answer
    with the k-th job to finish: the lags of a pipeline, not of single jobs.
    """
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM created_at), extract(epoch FROM started_at),"
            " extract(epoch FROM finished_at) FROM jobs"
            " WHERE job_type = 'practice_generation'"
        ).fetchall()
    created = [float(r[0]) for r in rows]
    to_epoch, first = time.time() - time.monotonic(), min(created)
    arrived = sorted(  # less the baseline's request, made before the jobs
        at + to_epoch for at in await fake.arrivals() if at + to_epoch > first
    )
    if len(arrived) != len(rows):
        return f"stages: {len(arrived)} model requests for {len(rows)} jobs, not paired"
    started = sorted(float(r[1]) for r in rows)
    finished = sorted(float(r[2]) for r in rows)
    answered = [at + fake.slow_s for at in arrived]

    def lag(later: list[float], earlier: list[float]) -> str:
        gaps = sorted(a - b for a, b in zip(later, earlier, strict=True))
        return f"{statistics.median(gaps):.2f} / {gaps[-1]:.2f} s"

    queued = lag([float(r[1]) for r in rows], created)
    return (
        f"stages (p50 / max): created to started {queued}; started to model request "
        f"{lag(arrived, started)}; model answer to finished {lag(finished, answered)}; "
        f"first to last creation {max(created) - min(created):.2f} s"
    )


def report(args: argparse.Namespace, bare: BareRun, seen: Burst, cpu: dict[str, float]) -> None:
    times = sorted(seen.times)
    jobs = len(times)
    ratio = seen.seconds / bare.seconds
    print(
        f"  {jobs} jobs x {args.questions} question(s) created within {seen.created_s:.2f} s;"
        f" the burst took {seen.seconds:.2f} s, {ratio:.2f}x the bare script"
        f" (aim <= 1.5x); job time from its 202 p50 {statistics.median(times):.2f} s,"
        f" max {times[-1]:.2f} s"
    )
    print(
        f"  dropped connections {seen.dropped} (aim 0); 503s {seen.busy};"
        f" {seen.polls / jobs:.1f} long-polls per job"
    )
    service = sum(cpu[name] for name in ("jobs", "sympy", "API") if name in cpu)
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
    print(f"  CPU {parts}; practicegen {1000 * service / jobs:.1f} ms per job")


async def measure_cpu(
    pids: dict[str, int], burst: Any, profile: str | None, profiled: str = "jobs"
) -> tuple[Any, dict[str, float]]:
    """Run `burst`; the CPU seconds each process in `pids` spent meanwhile. The one named
    "jobs" is counted with its children apart ("sympy"), PostgreSQL as "database"; with
    `profile`, py-spy samples the one named `profiled` into that file."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    family = family_cpu_seconds(pids["jobs"])
    database = database_server_cpu_seconds()
    async with sampled(pids[profiled], profile):
        result = await burst
    cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    cpu["sympy"] = family_cpu_seconds(pids["jobs"]) - family - cpu["jobs"]
    cpu["database"] = database_server_cpu_seconds() - database
    return result, cpu


def print_memory(own: float, family: float) -> None:
    print(
        f"  peak RSS of the process running the jobs: {own:.0f} MB (aim < 500 MB);"
        f" with its sympy processes {family:.0f} MB (PSS)"
    )


def overrides(args: argparse.Namespace) -> dict[str, str]:
    env = dict(item.split("=", 1) for item in args.set)
    env["PRACTICEGEN_LLM_BASE_URL"] = args.model_url
    return env


def sqlite_timings(path: str) -> str:
    """What the embedded node's jobs table says: queued and run time, p50 / max."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT julianday(started_at) - julianday(created_at),"
            " julianday(finished_at) - julianday(started_at) FROM jobs"
            " WHERE job_type = 'practice_generation' AND finished_at IS NOT NULL"
        ).fetchall()
    queued = sorted(86400 * r[0] for r in rows)
    ran = sorted(86400 * r[1] for r in rows)
    return (
        f"stored (p50 / max): created to started {statistics.median(queued):.2f} /"
        f" {queued[-1]:.2f} s; started to finished {statistics.median(ran):.2f} / {ran[-1]:.2f} s"
    )


def profile_path(args: argparse.Namespace, backend: str) -> str | None:
    return None if args.profile is None else f"{args.profile}.{backend}.txt"


async def embedded(fake: ModelServer, bare: BareRun, args: argparse.Namespace) -> None:
    print("embedded `practicegen serve` (SQLite), default settings:")
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(f"sqlite+aiosqlite:///{tmp}/bench.db", **overrides(args))
        port = free_port()
        with server_process(serve_command(port), env, port) as base:
            pid = child_pid(b"practicegen\x00serve")
            stop = asyncio.Event()
            memory = peak_memory_mb(pid, stop)
            pids = {"jobs": pid, "this process": os.getpid(), "model server": fake.process.pid}
            try:
                burst = run_jobs(base, env["PRACTICEGEN_API_KEY"], args.jobs, args.questions)
                seen, cpu = await measure_cpu(pids, burst, profile_path(args, "embedded"))
            finally:
                stop.set()
        report(args, bare, seen, cpu)
        print_memory(*await memory)
        print("  " + sqlite_timings(f"{tmp}/bench.db"))


async def distributed(fake: ModelServer, bare: BareRun, args: argparse.Namespace) -> None:
    print("PostgreSQL, an API process and one `practicegen worker`, default settings:")
    name = postgres.create_database(prefix="pgbenchllm")
    try:
        env = env_for(postgres.database_url(name), **overrides(args))
        port = free_port()
        with server_process(serve_command(port), env, port) as base:
            worker = await asyncio.create_subprocess_exec(
                python(), "-m", "practicegen", "worker", env={**os.environ, **env}
            )
            stop = asyncio.Event()
            memory = peak_memory_mb(worker.pid, stop)
            pids = {
                "jobs": worker.pid,
                "API": child_pid(b"practicegen\x00serve"),
                "this process": os.getpid(),
                "model server": fake.process.pid,
            }
            try:
                await worker_ready(name)
                before = database_counts(name)
                burst = run_jobs(base, env["PRACTICEGEN_API_KEY"], args.jobs, args.questions)
                profile = profile_path(args, "postgres")
                seen, cpu = await measure_cpu(pids, burst, profile, args.profile_process)
                after = database_counts(name)
            finally:
                stop.set()
                worker.terminate()
                await worker.wait()
        report(args, bare, seen, cpu)
        print_memory(*await memory)
        print("  " + stored_timings(name))
        print("  " + await stages(name, fake))
        spent = after[0] - before[0] - 1  # less this count's own transaction
        opened = after[1] - before[1] - 1  # and its own connection
        print(
            f"  database transactions (API and worker): {spent / args.jobs:.1f} per job; "
            f"connections opened during the burst: {opened}"
        )
    finally:
        postgres.drop_database(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--questions", type=int, default=1)
    parser.add_argument("--slow-s", type=float, default=2.0, help="the model's answer time")
    parser.add_argument("--backend", choices=("postgres", "embedded", "both"), default="both")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PRACTICEGEN_X=VALUE",
        help="a setting other than its default (to compare against other values)",
    )
    parser.add_argument(
        "--profile", metavar="PREFIX", help="py-spy the process running the jobs into PREFIX.*"
    )
    parser.add_argument(
        "--profile-process",
        choices=("jobs", "API"),
        default="jobs",
        help="on PostgreSQL, which process --profile samples: the worker or the API",
    )
    args = parser.parse_args()
    async with model_server(args.slow_s) as fake:
        args.model_url = fake.base_url
        bare = await bare_calls(fake.base_url, args.jobs * args.questions)
        print(
            f"bare asyncio script: {bare.calls} model calls of {args.slow_s:g} s and their sympy"
            f" checks in {bare.seconds:.2f} s ({bare.accepted} accepted)"
        )
        if args.backend in ("postgres", "both"):
            await distributed(fake, bare, args)
        if args.backend in ("embedded", "both"):
            await embedded(fake, bare, args)


if __name__ == "__main__":
    asyncio.run(main())
