"""Jobs bound by a slow language model: is the waiting concurrent, and what does it cost?

    python bench/bench_llm_jobs.py                                   # 1 job x 5 questions, 30 s
    python bench/bench_llm_jobs.py --jobs 1000 --questions 1         # 1,000 jobs, one worker

The model is the OpenAI-compatible test server (`tests/support/fake_llm.py`) answering every
question correctly after `--slow-s` seconds, in a process of its own (`model_server.py`). The
item bank is empty, so every question is generated. The baseline, measured in the same run, is
one bare chat request to that server (the wait itself): a job whose questions are written
concurrently takes about one such wait, not `questions` of them.

With `--jobs 1` the service is `practicegen serve` on SQLite (its in-process worker). With more
jobs it is PostgreSQL: an API process that runs no worker, and one `practicegen worker` process
with `PRACTICEGEN_JOB_CONCURRENCY` = jobs, whose peak RSS is read from /proc, and the peak PSS
of it with the sympy processes it forks (which check the model's questions). A job's time runs
from its 202 to the poll that sees it completed; every job has a connection of its own. Also
printed: the CPU time the worker, its sympy processes, the API, this process (the clients) and
the model server spent during the burst, and the database's own account: each job's stored
`finished_at - created_at` and how long it was queued, how many attempts the jobs took (more
than one per job means something failed around them, such as no pooled connection in time, and
they were retried), how many questions the model wrote (the rest were procedural stand-ins for
repeats), the transactions committed or rolled back in the benchmark's database (API and
worker; on PostgreSQL each statement run outside a transaction counts as one) per job, and how
many connections to it were opened during the burst. While iterating, `--jobs 200 --slow-s 10`
shows the same costs in a third of the time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench.bench_jobs import env_for
from bench.harness import free_port, python, serve_command, server_process
from bench.model_server import ModelServer, model_server

BODY = {"subject": "Algebra", "topic": "Linear Equations"}


async def one_bare_call(fake: ModelServer) -> float:
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "Skill: linear_equations.two_step"}],
        "response_format": {"type": "json_object"},
    }
    async with httpx.AsyncClient(timeout=600) as client:
        started = time.perf_counter()
        response = await client.post(f"{fake.base_url}/chat/completions", json=body)
        response.raise_for_status()
        return time.perf_counter() - started


async def run_jobs(base: str, key: str, jobs: int, questions: int) -> list[float]:
    """Create `jobs` jobs at once; each job's seconds from its 202 to its completed status.

    Each job has a connection of its own (as a client per job would), so its completion is seen
    when it happens, not when another job's 20 s long-poll gives a shared connection back. Also
    prints how long creating them all took and the whole burst's wall time, from the first
    request to the last job seen completed (creation is the API's cost, not the worker's). A
    request the server answers 503, or whose kept-alive connection it closed, is sent again
    (creation with the same `Idempotency-Key`) and counted.

    The clients are aiohttp's: they share the machine's two cores with the service, and httpx
    spent about three times their CPU per request (its connection pool scans every connection
    at each request), CPU the service under test then lacked.
    """
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=jobs + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as client:
        students = []
        for _ in range(min(jobs, 50)):
            async with client.post("/api/v1/students", json={}) as response:
                students.append((await response.json())["data"]["student_id"])
        burst = time.perf_counter()
        created: list[float] = []
        repeated: list[str] = []
        polls = 0

        async def send(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
            while True:
                try:
                    async with client.request(method, url, **kwargs) as response:
                        if response.status != 503:
                            return response.status, await response.json()
                        retry_after = float(response.headers.get("retry-after", "1"))
                except aiohttp.ClientConnectionError:  # a kept-alive connection just closed
                    repeated.append(url)
                    continue
                repeated.append(url)  # a busy node: again, after its Retry-After
                await asyncio.sleep(retry_after)

        async def one(index: int) -> float:
            nonlocal polls
            body = BODY | {"student_id": students[index % len(students)], "num_items": questions}
            idempotent = {"Idempotency-Key": f"bench-{index}"}
            url = "/api/v1/practice/assign/async"
            status, accepted = await send("POST", url, json=body, headers=idempotent)
            assert status == 202, accepted
            started = time.perf_counter()
            created.append(started - burst)
            job_id = accepted["job_id"]
            while True:
                polls += 1
                status, polled = await send("GET", f"/api/v1/jobs/{job_id}", params={"wait": 20})
                assert status == 200, polled
                data = polled["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    assert data["status"] == "completed", data
                    return time.perf_counter() - started

        times = list(await asyncio.gather(*(one(i) for i in range(jobs))))
        print(
            f"created all {jobs} jobs within {max(created):.2f} s; the burst took "
            f"{time.perf_counter() - burst:.2f} s from first request to last done; "
            f"{len(repeated)} requests were sent again (503 or a closed connection); "
            f"{polls / jobs:.1f} long-polls per job"
        )
        return times


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (the process's state is [0])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(
    pid: int, fields: list[str] | None = None, *, ended_children: bool = False
) -> float:
    """User plus system CPU time the process has used so far (from `fields`, its stat, if
    given); with `ended_children`, also that of its children that have ended (and been waited
    for)."""
    fields = fields or _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (the worker's fork server and sympy processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            children.setdefault(int(_stat(int(stat.parent.name))[1]), []).append(
                int(stat.parent.name)
            )
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def family_cpu_seconds(pid: int) -> float:
    """CPU time of `pid` and of its running descendants."""
    total = cpu_seconds(pid)
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(child)
    return total


def database_server_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL: its running processes, and through
    the postmaster's account of its ended children, the backends of closed connections."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            if comm.read_text().strip() == "postgres":
                pid = int(comm.parent.name)
                fields = _stat(pid)
                postmaster = Path(f"/proc/{fields[1]}/comm").read_text().strip() != "postgres"
                total += cpu_seconds(pid, fields, ended_children=postmaster)
    return total


def serving_pid() -> int:
    """The `practicegen serve` process this one started."""
    for task in Path("/proc/self/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"practicegen\x00serve" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    raise RuntimeError("no practicegen serve process found")


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


def memory_mb(path: str, field: str) -> float:
    """A `field:` line's kB from /proc/PID/status or smaps_rollup, in MB."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_memory_mb(pid: int, stop: asyncio.Event) -> asyncio.Task[tuple[float, float]]:
    """Peak RSS of `pid`, and peak PSS of `pid` with its descendants (their proportional set
    sizes: a page the fork server and its children share is split between them, not counted
    in each)."""

    family: list[int] = []

    def proportional() -> float:
        total = memory_mb(f"/proc/{pid}/smaps_rollup", "Pss")
        for child in family:
            with contextlib.suppress(OSError):
                total += memory_mb(f"/proc/{child}/smaps_rollup", "Pss")
        return total

    async def sample() -> tuple[float, float]:
        """RSS every 0.2 s; the PSS sum (the kernel walks every page for it) every second,
        and the process tree (a scan of /proc) every 5 s: the pools stay put."""
        own, total = 0.0, 0.0
        samples = 0
        while not stop.is_set():
            try:
                if samples % 25 == 0:
                    family[:] = await asyncio.to_thread(descendants, pid)
                if samples % 5 == 0:
                    total = max(total, await asyncio.to_thread(proportional))
                rss = await asyncio.to_thread(memory_mb, f"/proc/{pid}/status", "VmRSS")
            except FileNotFoundError:
                break
            own = max(own, rss)
            samples += 1
            await asyncio.sleep(0.2)
        return own, total

    return asyncio.ensure_future(sample())


def report(times: list[float], bare: float, questions: int) -> None:
    times.sort()
    p50, worst = statistics.median(times), times[-1]
    print(f"jobs: {len(times)} x {questions} question(s); one bare model call: {bare:.2f} s")
    print(f"job time p50 {p50:.2f} s, max {worst:.2f} s")
    print(f"the same questions written one by one: {questions * bare:.1f} s")
    print(f"ratio max job time / one call: {worst / bare:.2f}x (aim about 1x; <= 1.2x)")


async def embedded(fake: ModelServer, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        port = free_port()
        env = env_for(url, PRACTICEGEN_LLM_BASE_URL=fake.base_url, PRACTICEGEN_RUN_WORKER="true")
        command = serve_command(port)
        with server_process(command, env, port) as base:
            bare = await one_bare_call(fake)
            times = await run_jobs(base, env["PRACTICEGEN_API_KEY"], 1, args.questions)
            report(times, bare, args.questions)


async def distributed(fake: ModelServer, args: argparse.Namespace) -> None:
    name = postgres.create_database(prefix="pgbenchllm")
    try:
        url = postgres.database_url(name)
        llm = {
            "PRACTICEGEN_LLM_BASE_URL": fake.base_url,
            "PRACTICEGEN_LLM_CONCURRENCY": str(args.jobs * args.questions),
            "PRACTICEGEN_LLM_TIMEOUT_S": str(args.slow_s * 3),
        }
        port = free_port()
        api = serve_command(port)
        worker_env = env_for(
            url,
            **llm,
            PRACTICEGEN_JOB_CONCURRENCY=str(args.jobs),
            PRACTICEGEN_DB_POOL_SIZE=str(args.worker_pool_size),
        )
        with server_process(api, env_for(url, **llm), port) as base:
            worker = await asyncio.create_subprocess_exec(
                python(), "-m", "practicegen", "worker", env={**os.environ, **worker_env}
            )
            stop = asyncio.Event()
            memory = peak_memory_mb(worker.pid, stop)
            try:
                bare = await one_bare_call(fake)
                before = database_counts(name)
                pids = {
                    "worker": worker.pid,
                    "API": serving_pid(),
                    "this process": os.getpid(),
                    "model server": fake.process.pid,
                }
                cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                family_before = family_cpu_seconds(worker.pid)
                database_before = database_server_cpu_seconds()
                times = await run_jobs(base, worker_env["PRACTICEGEN_API_KEY"], args.jobs, 1)
                cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
                cpu["sympy"] = family_cpu_seconds(worker.pid) - family_before - cpu["worker"]
                cpu["database"] = database_server_cpu_seconds() - database_before
            finally:
                stop.set()
                worker.terminate()
                await worker.wait()
        report(times, bare, args.questions)
        own, family = await memory
        print(
            f"worker peak RSS: {own:.0f} MB (aim < 400 MB); with its sympy processes "
            f"{family:.0f} MB (PSS: pages they share split between them)"
        )
        print(
            f"CPU during the burst: worker {cpu['worker']:.1f} s "
            f"({1000 * cpu['worker'] / args.jobs:.1f} ms per job) and its sympy processes "
            f"{cpu['sympy']:.1f} s, API {cpu['API']:.1f} s, "
            f"this process (the clients) {cpu['this process']:.1f} s, "
            f"the model server {cpu['model server']:.1f} s, "
            f"PostgreSQL {cpu['database']:.1f} s"
        )
        print(stored_timings(name))
        print(await stages(name, fake))
        after = database_counts(name)
        spent = after[0] - before[0] - 1  # less this count's own transaction
        opened = after[1] - before[1] - 1  # and its own connection
        print(
            f"database transactions (API and worker): {spent / args.jobs:.1f} per job; "
            f"connections opened during the burst: {opened}"
        )
    finally:
        postgres.drop_database(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--slow-s", type=float, default=30.0, help="the model's answer time")
    parser.add_argument(
        "--worker-pool-size", type=int, default=20, help="the worker's PRACTICEGEN_DB_POOL_SIZE"
    )
    args = parser.parse_args()
    async with model_server(args.slow_s) as fake:
        if args.jobs == 1:
            await embedded(fake, args)
        else:
            await distributed(fake, args)


if __name__ == "__main__":
    asyncio.run(main())
