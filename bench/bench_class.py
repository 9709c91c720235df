"""A class assigned at once: does a batch of 40 take about the time of one job?

    python bench/bench_class.py                       # 40 students, a model answering in 2 s
    python bench/bench_class.py --backend postgres    # an API process and one worker process

Default settings but the model's address: the model is the OpenAI-compatible test server
(`model_server.py`) answering every question correctly after `--slow-s` seconds, and the bank is
empty, so every question is written by it. The baseline, measured in the same run on the same
service, is one student's job of the same practice (its 202 to its completion). Then the class:
(the bank is emptied again before each, by retiring what the model wrote, so every job of
every round waits on the model)
from the 202 of `POST /api/v1/classes/{id}/assign/async` to the batch's `completed`, read by
polling `GET /api/v1/batches/{id}`. Aim: the class within 1.5x the one job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres

from bench.bench_jobs import env_for
from bench.harness import free_port, python, serve_command, server_process
from bench.model_server import model_server

PRACTICE = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 3}


async def until(http: httpx.AsyncClient, url: str, ended: set[str]) -> None:
    for _ in range(100_000):
        if (await http.get(url)).json()["data"]["status"] in ended:
            return
        await asyncio.sleep(0.05)


async def retire_every_item(http: httpx.AsyncClient) -> None:
    """Empty the bank again, so that the next job needs the model for every question too."""
    while items := (
        await http.get("/api/v1/items", params={"status": "active", "limit": 200})
    ).json()["data"]["items"]:
        await asyncio.gather(*(http.post(f"/api/v1/items/{i['item_id']}/retire") for i in items))


async def one_job(http: httpx.AsyncClient, student: str) -> float:
    started = time.perf_counter()
    made = await http.post(
        "/api/v1/practice/assign/async", json={**PRACTICE, "student_id": student}
    )
    await until(http, made.json()["status_url"], {"completed"})
    return time.perf_counter() - started


async def one_class(http: httpx.AsyncClient, class_id: str) -> float:
    started = time.perf_counter()
    made = await http.post(f"/api/v1/classes/{class_id}/assign/async", json=PRACTICE)
    assert made.status_code == 202, made.text
    await until(http, made.json()["status_url"], {"completed", "failed", "cancelled"})
    batch = (await http.get(made.json()["status_url"])).json()["data"]
    assert batch["counts"]["completed"] == len(batch["jobs"]), batch["counts"]
    return time.perf_counter() - started


async def measure(base: str, key: str, students: int, rounds: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
        ids = []
        for n in range(students):
            made = await http.post("/api/v1/students", json={"display_name": f"S{n:02}"})
            ids.append(made.json()["data"]["student_id"])
        klass = await http.post("/api/v1/classes", json={"name": "bench", "student_ids": ids})
        class_id = klass.json()["data"]["class_id"]
        singles, classes = [], []
        for _ in range(rounds):  # interleaved, so the machine's load falls on both alike
            singles.append(await one_job(http, ids[0]))
            await retire_every_item(http)
            classes.append(await one_class(http, class_id))
            await retire_every_item(http)
    single, whole = statistics.median(singles), statistics.median(classes)
    print(f"one job: median {single:.2f} s of {rounds} ({', '.join(f'{t:.2f}' for t in singles)})")
    print(f"class of {students}: median {whole:.2f} s ({', '.join(f'{t:.2f}' for t in classes)})")
    print(f"ratio class / one job: {whole / single:.2f}x (aim <= 1.5x)")


@contextmanager
def service(backend: str, model: str) -> Iterator[tuple[str, str]]:
    llm = {"PRACTICEGEN_LLM_BASE_URL": model}
    port = free_port()
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            env = env_for(f"sqlite+aiosqlite:///{tmp}/bench.db", **llm)
            with server_process(serve_command(port), env, port) as base:
                yield base, env["PRACTICEGEN_API_KEY"]
        return
    name = postgres.create_database(prefix="pgbenchclass")
    try:
        env = env_for(postgres.database_url(name), **llm)
        with server_process(serve_command(port), env, port) as base:
            worker = subprocess.Popen(
                [python(), "-m", "practicegen", "worker"], env={**os.environ, **env}
            )
            try:
                yield base, env["PRACTICEGEN_API_KEY"]
            finally:
                worker.terminate()
                worker.wait(timeout=30)
    finally:
        postgres.drop_database(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-s", type=float, default=2.0, help="the model's answer time")
    args = parser.parse_args()
    async with model_server(args.slow_s) as fake:
        with service(args.backend, fake.base_url) as (base, key):
            await measure(base, key, args.students, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
