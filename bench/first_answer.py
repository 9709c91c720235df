"""The first answer a fresh `practicegen serve` grades, against the second one.

    python bench/first_answer.py [--starts 5] [--backend sqlite|postgres]

One database, prepared once by a `serve` that makes a student and one assignment per start.
Then `--starts` times: `serve` starts on that database, `/readyz` is asked every 10 ms until it
answers 200, and at once the first answer of that start's assignment is sent (timed), then the
second (the baseline: by then nothing is cold). Each start ends with SIGTERM before the next.
Prints each start's time to ready and both answers' latency, and the medians and worst.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import free_port, serve_command, server_process

KEY = "pgen_sk_bench_first_answer_key_000000000"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASSIGN = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 2}


def settings(database_url: str) -> dict[str, str]:
    return {
        "PRACTICEGEN_DATABASE_URL": database_url,
        "PRACTICEGEN_API_KEY": KEY,
        "PRACTICEGEN_LOG_LEVEL": "WARNING",
        "PRACTICEGEN_RUN_WORKER": "true",  # a node that grades and generates, on either backend
    }


@contextmanager
def serve(database_url: str) -> Iterator[tuple[str, float]]:
    """A started `serve`: its base URL and the seconds from its start to `/readyz` 200."""
    port = free_port()
    began = time.perf_counter()
    with server_process(serve_command(port), settings(database_url), port) as base:
        deadline = time.monotonic() + 300
        while not _ready(base):
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not turn ready within 300 s")
            time.sleep(0.01)
        yield base, time.perf_counter() - began


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:  # not listening yet (a loaded machine starts slowly)
        return False


async def prepare(database_url: str, starts: int) -> list[str]:
    """A student and `starts` assignments of two items each: their ids."""
    with serve(database_url) as (base, _):
        async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as http:
            made = await http.post("/api/v1/students", json={"display_name": "First answer"})
            student = made.raise_for_status().json()["data"]["student_id"]
            ids = []
            for _ in range(starts):
                body = {"student_id": student, **ASSIGN}
                assigned = await http.post("/api/v1/practice/assign", json=body)
                ids.append(assigned.raise_for_status().json()["data"]["assignment_id"])
            return ids


async def answer(http: httpx.AsyncClient, assignment: str, position: int) -> float:
    """Milliseconds to grade one answer."""
    began = time.perf_counter()
    graded = await http.post(
        f"/api/v1/assignments/{assignment}/responses",
        json={"position": position, "answer": "x = 3"},
    )
    elapsed = (time.perf_counter() - began) * 1000
    if graded.status_code != 201:
        raise RuntimeError(f"answer refused: {graded.status_code} {graded.text}")
    return elapsed


async def one_start(database_url: str, assignment: str) -> tuple[float, float, float]:
    """Seconds to ready, then the first and the second answer's milliseconds."""
    with serve(database_url) as (base, ready_s):
        async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as http:
            first = await answer(http, assignment, 1)
            second = await answer(http, assignment, 2)
    return ready_s, first, second


def database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'first_answer.db'}"
    import psycopg

    name = f"bench_first_answer_{int(time.time())}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"'.encode())
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = database(args.backend, Path(workdir))
        assignments = await prepare(url, args.starts)
        rows = [await one_start(url, assignment) for assignment in assignments]
    for n, (ready_s, first, second) in enumerate(rows, 1):
        print(f"start {n}: ready {ready_s:5.2f} s  first {first:8.1f} ms  second {second:6.1f} ms")
    firsts, seconds = [r[1] for r in rows], [r[2] for r in rows]
    print(
        f"first answer: median {statistics.median(firsts):.1f} ms, worst {max(firsts):.1f} ms;"
        f" second: median {statistics.median(seconds):.1f} ms, worst {max(seconds):.1f} ms;"
        f" ready after median {statistics.median(r[0] for r in rows):.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
