"""Async job creation throughput and dispatch latency on PostgreSQL, beside a bare baseline.

    python bench/bench_jobs.py [--seconds 10] [--concurrency 8] [--rate 20]

1. Creation: `POST /api/v1/practice/assign/async` on an API process that runs no worker,
   against `POST /bare/job` (bench/bare_app.py: one INSERT and one NOTIFY through a psycopg
   pool), each at a fixed concurrency, both servers up at once and driven in turns
   (`--rounds` each, `--seconds` in all per endpoint).
2. Dispatch: with a `practicegen worker`-equivalent in the serving process, jobs created at
   `--rate` per second; latency is the job's `started_at - created_at` as stored.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench.bench_assign import KEY, seed
from bench.harness import Endpoint, bare_command, compare, free_port, serve_command, server_process
from practicegen.config import Settings


def env_for(url: str, **extra: str) -> dict[str, str]:
    return {
        "PRACTICEGEN_DATABASE_URL": url,
        "PRACTICEGEN_API_KEY": KEY,
        "PRACTICEGEN_DEMO_BANK": "false",
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
        "PRACTICEGEN_JOB_MAX_IN_FLIGHT": "1000000",
        **extra,
    }


async def creation(url: str, students: list[str], args: argparse.Namespace) -> None:
    def bare_job(client: httpx.AsyncClient) -> httpx.Request:
        return client.build_request("POST", "/bare/job")

    def job(client: httpx.AsyncClient) -> httpx.Request:
        body = {"student_id": random.choice(students), "subject": "Algebra", "num_items": 5}
        return client.build_request("POST", "/api/v1/practice/assign/async", json=body)

    bare, jobs = await compare(
        Endpoint("bare insert + NOTIFY", bare_command, env_for(url), bare_job),
        Endpoint(
            "async create",
            serve_command,
            env_for(url, PRACTICEGEN_RUN_WORKER="false"),
            job,
            headers={"Authorization": f"Bearer {KEY}"},
        ),
        concurrency=args.concurrency,
        seconds=args.seconds,
        rounds=args.rounds,
    )
    print(bare.line())
    print(jobs.line())
    print(f"throughput ratio async create / bare: {jobs.rps / bare.rps:.2f}x (aim >= 0.6x)")


async def dispatch(url: str, students: list[str], args: argparse.Namespace) -> None:
    port = free_port()
    serve = serve_command(port)
    extra = {"PRACTICEGEN_RUN_WORKER": "true", "PRACTICEGEN_QUEUE_POLL_S": "5"}
    with server_process(serve, env_for(url, **extra), port) as base:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
        ) as client:
            ids = []
            stop = time.perf_counter() + args.seconds
            while time.perf_counter() < stop:
                body = {"student_id": random.choice(students), "subject": "Algebra", "num_items": 5}
                response = await client.post("/api/v1/practice/assign/async", json=body)
                ids.append(response.json()["job_id"])
                await asyncio.sleep(1 / args.rate)
            await asyncio.sleep(3)
    with psycopg.connect(postgres.conninfo(url.rsplit("/", 1)[1])) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM started_at - created_at) * 1000 FROM jobs "
            "WHERE started_at IS NOT NULL AND id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall()
    latencies = sorted(float(r[0]) for r in rows)
    print(
        f"dispatch latency over {len(latencies)} of {len(ids)} jobs: "
        f"p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms (aim p50 < 20, p99 < 100)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns each endpoint gets, alternating"
    )
    args = parser.parse_args()
    # each part on a database of its own: dispatch must not queue behind creation's jobs
    for part in (creation, dispatch):
        name = postgres.create_database(prefix="pgbenchjobs")
        try:
            url = postgres.database_url(name)
            settings = Settings(_env_file=None, database_url=url, api_key=KEY, demo_bank=False)
            students = [str(s) for s in await seed(settings, 2000, 200)]
            await part(url, students, args)
        finally:
            postgres.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
