"""A flood of slow answers from one student token, and what the rest of the node sees meanwhile.

    python bench/grading_flood.py [--backend sqlite|postgres|both] [--seconds 10] [--rounds 2]
                                  [--flood 50] [--ignore-retry-after]

One `practicegen serve` process on default settings. Tenant A has a bank of items keyed `2x+3`
and one student with many open positions; tenant B (made by `practicegen keys create
--new-tenant`) has a bank of 500 equations and 50 students. `/readyz` is asked every 50 ms and
tenant B's sync assign (`POST /api/v1/practice/assign`, 5 items) every 100 ms, on a fixed
schedule (a slow answer does not delay the next request), for `--seconds` with no flood (the
baseline) and for `--seconds` while `--flood` clients each send tenant A's student's answers
one after another, in `--rounds` turns of each so the shared machine's slow spells fall on both.

The flood runs in a process of its own. Each flood answer is `UNDER_THE_BOUND` with a
constant of its own: it passes the cost bound (`answer_cost`), yet holds a grading process for
seconds, so the lane, not the bound, is what stands between it and the node. A flood client
that is refused (429/503) waits the `Retry-After` it was given, unless `--ignore-retry-after`.
Prints p50/p99 of both measured requests in both phases, their ratios, every status seen, and
any 5xx other than a 503 with `Retry-After`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import math
import multiprocessing
import multiprocessing.queues
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_assign import TOPICS, synthetic_bank
from bench.harness import LoadResult, free_port, python, serve_command, server_process
from practicegen.bootstrap import prepare
from practicegen.config import Settings

KEY = "pgen_sk_bench_key_000000000000000000000"
UNDER_THE_BOUND = (
    "2x+3+(x+sqrt(2)+sqrt(3)+sqrt({k}))^8(x-sqrt(2)-sqrt(3)-sqrt({k}))^8"
    "-(x^2-(sqrt(2)+sqrt(3)+sqrt({k}))^2)^8"
)
"""Equal to `2x+3`; each answer takes its own `k`, a non-square, so that no grading process
answers from sympy's cache of an earlier one."""
NON_SQUARES = [k for k in range(5, 5000) if math.isqrt(k) ** 2 != k]
KEY_OPTIONS = ("--role", "admin", "--new-tenant", "bench-b", "--name", "bench")
EXPRESSIONS = 200  # tenant A's items; each of the flood student's assignments takes 20
ASSIGNMENTS = 10


class Tally:
    """Statuses seen, and the answers that broke the contract (5xx, or a refusal without
    Retry-After)."""

    def __init__(self) -> None:
        self.statuses: collections.Counter[str] = collections.Counter()
        self.broken: list[str] = []

    def record(self, name: str, response: httpx.Response) -> None:
        status = response.status_code
        self.statuses[f"{name} {status}"] += 1
        refused = status in (429, 503)
        if (status >= 500 and status != 503) or (refused and "retry-after" not in response.headers):
            self.broken.append(f"{name} {status}: {response.text[:200]}")


async def paced(
    name: str,
    client: httpx.AsyncClient,
    make: Callable[[], httpx.Request],
    *,
    every_s: float,
    seconds: float,
    tally: Tally,
) -> LoadResult:
    """Send `make()` every `every_s` for `seconds`, each on its own, whatever the last one does."""
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        started = time.perf_counter()
        response = await client.send(make())
        latencies.append((time.perf_counter() - started) * 1000)
        tally.record(name, response)
        errors += response.status_code >= 400

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for tick in range(int(seconds / every_s)):
            await asyncio.sleep(max(0.0, began + tick * every_s - time.perf_counter()))
            group.create_task(one())
    return LoadResult.of(name, latencies, errors, time.perf_counter() - began)


async def flood_client(
    client: httpx.AsyncClient,
    positions: collections.deque[tuple[str, int]],
    headers: dict[str, str],
    *,
    honour_retry_after: bool,
    tally: Tally,
    answers: Iterator[int],
) -> None:
    while positions:
        url, position = positions.popleft()
        k = NON_SQUARES[next(answers) % len(NON_SQUARES)]
        body = {"position": position, "answer": UNDER_THE_BOUND.format(k=k)}
        response = await client.post(url, json=body, headers=headers)
        tally.record("flood answer", response)
        if response.status_code == 201:
            tally.statuses[f"graded {response.json()['data']['feedback_code']}"] += 1
            continue
        positions.append((url, position))  # refused: the position is still open
        wait = float(response.headers.get("retry-after", "1")) if honour_retry_after else 0.0
        await asyncio.sleep(wait)


async def flood(
    base: str, positions: list[tuple[str, int]], headers: dict[str, str], args: argparse.Namespace
) -> Tally:
    """`args.flood` clients answering for `args.seconds` + 1 s, then cut off."""
    tally = Tally()
    open_positions = collections.deque(positions)
    answers = itertools.count(positions[0][1] * 1000 if positions else 0)
    limits = httpx.Limits(max_connections=args.flood + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        clients = [
            asyncio.create_task(
                flood_client(
                    client,
                    open_positions,
                    headers,
                    honour_retry_after=not args.ignore_retry_after,
                    tally=tally,
                    answers=answers,
                )
            )
            for _ in range(args.flood)
        ]
        await asyncio.sleep(args.seconds + 1.5)
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
    return tally


def flood_process(
    base: str,
    positions: list[tuple[str, int]],
    headers: dict[str, str],
    args: argparse.Namespace,
    results: multiprocessing.queues.Queue[tuple[dict[str, int], list[str]]],
) -> None:
    """The flood in a process of its own, so that its clients do not delay the measured ones'."""
    tally = asyncio.run(flood(base, positions, headers, args))
    results.put((dict(tally.statuses), tally.broken))


async def seed_tenant_a(admin: httpx.AsyncClient) -> tuple[list[tuple[str, int]], dict[str, str]]:
    items = [
        {
            "subject": "Algebra",
            "topic": "Simplifying",
            "skill": "expressions.simplify",
            "type": "expression",
            "stem": f"Simplify ${k}x + 3 - {k - 2}x$.",
            "answer": "2x+3",
            "answer_policy": "equivalent",
            "difficulty": 0.0,
        }
        for k in range(3, 3 + EXPRESSIONS)
    ]
    document = {"format": "practicegen-bank", "version": 1, "items": items}
    (await admin.post("/api/v1/items/import", json=document)).raise_for_status()
    student = (await admin.post("/api/v1/students", json={"display_name": "flood"})).json()
    student_id = student["data"]["student_id"]
    positions: list[tuple[str, int]] = []
    for _ in range(ASSIGNMENTS):
        body = {"student_id": student_id, "subject": "Algebra", "topic": "Simplifying"}
        made = await admin.post("/api/v1/practice/assign", json={**body, "num_items": 20})
        made.raise_for_status()
        url = f"/api/v1/assignments/{made.json()['data']['assignment_id']}/responses"
        positions += [(url, p) for p in range(1, 21)]
    token = await admin.post("/api/v1/tokens", json={"student_id": student_id})
    return positions, {"Authorization": f"Bearer {token.json()['data']['token']}"}


async def seed_tenant_b(other: httpx.AsyncClient) -> list[str]:
    (await other.post("/api/v1/items/import", json=synthetic_bank(500))).raise_for_status()
    return [
        (await other.post("/api/v1/students", json={"display_name": f"b{i}"})).json()["data"][
            "student_id"
        ]
        for i in range(50)
    ]


async def seed(
    base: str, other_key: str
) -> tuple[list[tuple[str, int]], dict[str, str], list[str]]:
    """Tenant A's open positions and student token; tenant B's students."""
    async with (
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
        ) as admin,
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {other_key}"}, timeout=60
        ) as other,
    ):
        positions, as_student = await seed_tenant_a(admin)
        return positions, as_student, await seed_tenant_b(other)


def tenant_b_key(env: dict[str, str]) -> str:
    made = subprocess.run(
        [python(), "-m", "practicegen", "keys", "create", *KEY_OPTIONS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip().split()[-1]


async def phase(
    base: str, other_key: str, students: list[str], seconds: float, tally: Tally
) -> tuple[LoadResult, LoadResult]:
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=200)
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as ready_client,
        httpx.AsyncClient(
            base_url=base,
            limits=limits,
            timeout=60,
            headers={"Authorization": f"Bearer {other_key}"},
        ) as other,
    ):

        def assign() -> httpx.Request:
            body = {
                "student_id": students[next(counter) % len(students)],
                "subject": "Algebra",
                "topic": TOPICS[next(counter) % len(TOPICS)],
                "num_items": 5,
            }
            return other.build_request("POST", "/api/v1/practice/assign", json=body)

        ready, assigned = await asyncio.gather(
            paced(
                "/readyz",
                ready_client,
                lambda: ready_client.build_request("GET", "/readyz"),
                every_s=0.05,
                seconds=seconds,
                tally=tally,
            ),
            paced("sync assign (B)", other, assign, every_s=0.1, seconds=seconds, tally=tally),
        )
    return ready, assigned


@contextlib.contextmanager
def job_worker(env: dict[str, str]) -> Iterator[None]:
    """On PostgreSQL the API node's `/readyz` needs a worker connected somewhere, as in a real
    deployment: `practicegen worker` runs beside it (idle: this benchmark makes no jobs)."""
    if not env["PRACTICEGEN_DATABASE_URL"].startswith("postgresql"):
        yield
        return
    worker = subprocess.Popen(
        [python(), "-m", "practicegen", "worker"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def measure(database_url: str, args: argparse.Namespace) -> None:
    env = {
        "PRACTICEGEN_DATABASE_URL": database_url,
        "PRACTICEGEN_API_KEY": KEY,
        "PRACTICEGEN_DEMO_BANK": "false",
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
    }
    settings = Settings(_env_file=None, database_url=database_url, api_key=KEY, demo_bank=False)
    await prepare(settings)
    other_key = tenant_b_key(env)
    port = free_port()
    tally = Tally()
    quiet: list[tuple[LoadResult, LoadResult]] = []
    flooded: list[tuple[LoadResult, LoadResult]] = []
    with server_process(serve_command(port), env, port) as base, job_worker(env):
        positions, as_student, students = await seed(base, other_key)
        await phase(base, other_key, students, 2.0, Tally())  # warm-up
        spawn = multiprocessing.get_context("spawn")
        results: multiprocessing.queues.Queue[tuple[dict[str, int], list[str]]] = spawn.Queue()
        for turn in range(args.rounds):
            quiet.append(await phase(base, other_key, students, args.seconds, tally))
            ours = positions[turn :: args.rounds]
            flooder = spawn.Process(
                target=flood_process, args=(base, ours, as_student, args, results)
            )
            flooder.start()
            await asyncio.sleep(1.0)  # the flood has filled the student's places
            flooded.append(await phase(base, other_key, students, args.seconds, tally))
            statuses, broken = await asyncio.to_thread(results.get, True, 60)
            await asyncio.to_thread(flooder.join, 10)
            tally.statuses.update(statuses)
            tally.broken += broken
            await asyncio.sleep(2 * settings.grader_timeout_s + 1)  # the last answers end
    report(settings, args, quiet, flooded, tally)


def report(
    settings: Settings,
    args: argparse.Namespace,
    quiet: list[tuple[LoadResult, LoadResult]],
    flooded: list[tuple[LoadResult, LoadResult]],
    tally: Tally,
) -> None:
    ready_q = LoadResult.merged([q[0] for q in quiet])
    assign_q = LoadResult.merged([q[1] for q in quiet])
    ready_f = LoadResult.merged([f[0] for f in flooded])
    assign_f = LoadResult.merged([f[1] for f in flooded])
    retry = "ignored" if args.ignore_retry_after else "honoured"
    print(
        f"backend: {settings.database_kind.value}, flood {args.flood} clients of one student"
        f" token (Retry-After {retry}), {args.rounds} x {args.seconds:g} s per phase"
    )
    for label, result in (
        ("no flood", ready_q),
        ("no flood", assign_q),
        ("flood", ready_f),
        ("flood", assign_f),
    ):
        print(f"{label:<9} {result.line()}")
    print(
        f"ratio p99 flood/no flood: /readyz {ready_f.p99_ms / ready_q.p99_ms:.2f}x, "
        f"sync assign {assign_f.p99_ms / assign_q.p99_ms:.2f}x"
    )
    print("statuses:", ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
    print(f"contract broken (5xx, or 429/503 without Retry-After): {len(tally.broken)}")
    for line in tally.broken[:5]:
        print("   ", line)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--flood", type=int, default=50)
    parser.add_argument("--ignore-retry-after", action="store_true")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.backend in ("postgres", "both"):
        from tests.support import postgres

        name = postgres.create_database(prefix="pgbench")
        try:
            await measure(postgres.database_url(name), args)
        finally:
            postgres.drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
