"""Jobs bound by a slow language model: is the waiting concurrent, and what does it cost?

    python bench/bench_llm_jobs.py                                   # 1 job x 5 questions, 30 s
    python bench/bench_llm_jobs.py --jobs 1000 --questions 1         # 1,000 jobs, one worker

The model is the OpenAI-compatible test server (`tests/support/fake_llm.py`) answering every
question correctly after `--slow-s` seconds. The item bank is empty, so every question is
generated. The baseline, measured in the same run, is one bare chat request to that server
(the wait itself): a job whose questions are written concurrently takes about one such wait,
not `questions` of them.

With `--jobs 1` the service is `practicegen serve` on SQLite (its in-process worker). With more
jobs it is PostgreSQL: an API process that runs no worker, and one `practicegen worker` process
with `PRACTICEGEN_JOB_CONCURRENCY` = jobs, whose peak RSS is sampled from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm

from bench.bench_jobs import env_for
from bench.harness import free_port, python, server_process

BODY = {"subject": "Algebra", "topic": "Linear Equations"}


async def one_bare_call(fake: FakeLlm) -> float:
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
    """Create `jobs` jobs at once; each job's seconds from its 202 to its completed status."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as c:
        students = [
            (await c.post("/api/v1/students", json={})).json()["data"]["student_id"]
            for _ in range(min(jobs, 50))
        ]

        async def one(index: int) -> float:
            body = BODY | {"student_id": students[index % len(students)], "num_items": questions}
            started = time.perf_counter()
            accepted = await c.post("/api/v1/practice/assign/async", json=body)
            while accepted.status_code == 503:  # a busy node: retry as its Retry-After says
                await asyncio.sleep(float(accepted.headers.get("retry-after", "1")))
                accepted = await c.post("/api/v1/practice/assign/async", json=body)
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["job_id"]
            while True:
                polled = await c.get(f"/api/v1/jobs/{job_id}", params={"wait": 20})
                data = polled.json()["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    assert data["status"] == "completed", data
                    return time.perf_counter() - started

        return list(await asyncio.gather(*(one(i) for i in range(jobs))))


def peak_rss_mb(pid: int, stop: asyncio.Event) -> asyncio.Task[float]:
    async def sample() -> float:
        peak = 0.0
        while not stop.is_set():
            try:
                status = await asyncio.to_thread(Path(f"/proc/{pid}/status").read_text)
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
            except FileNotFoundError:
                break
            await asyncio.sleep(0.2)
        return peak

    return asyncio.ensure_future(sample())


def report(times: list[float], bare: float, questions: int) -> None:
    times.sort()
    p50, worst = statistics.median(times), times[-1]
    print(f"jobs: {len(times)} x {questions} question(s); one bare model call: {bare:.2f} s")
    print(f"job time p50 {p50:.2f} s, max {worst:.2f} s")
    print(f"the same questions written one by one: {questions * bare:.1f} s")
    print(f"ratio max job time / one call: {worst / bare:.2f}x (aim about 1x; <= 1.2x)")


async def embedded(fake: FakeLlm, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        port = free_port()
        env = env_for(url, PRACTICEGEN_LLM_BASE_URL=fake.base_url, PRACTICEGEN_RUN_WORKER="true")
        command = [python(), "-m", "practicegen", "serve", "--port", str(port)]
        with server_process(command, env, port) as base:
            bare = await one_bare_call(fake)
            times = await run_jobs(base, env["PRACTICEGEN_API_KEY"], 1, args.questions)
            report(times, bare, args.questions)


async def distributed(fake: FakeLlm, args: argparse.Namespace) -> None:
    name = postgres.create_database(prefix="pgbenchllm")
    try:
        url = postgres.database_url(name)
        llm = {
            "PRACTICEGEN_LLM_BASE_URL": fake.base_url,
            "PRACTICEGEN_LLM_CONCURRENCY": str(args.jobs * args.questions),
            "PRACTICEGEN_LLM_TIMEOUT_S": str(args.slow_s * 3),
        }
        port = free_port()
        api = [python(), "-m", "practicegen", "serve", "--port", str(port)]
        worker_env = env_for(
            url,
            **llm,
            PRACTICEGEN_JOB_CONCURRENCY=str(args.jobs),
            PRACTICEGEN_DB_POOL_SIZE="20",
        )
        with server_process(api, env_for(url, **llm), port) as base:
            worker = await asyncio.create_subprocess_exec(
                python(), "-m", "practicegen", "worker", env=worker_env
            )
            stop = asyncio.Event()
            rss = peak_rss_mb(worker.pid, stop)
            try:
                bare = await one_bare_call(fake)
                times = await run_jobs(base, worker_env["PRACTICEGEN_API_KEY"], args.jobs, 1)
            finally:
                stop.set()
                worker.terminate()
                await worker.wait()
            report(times, bare, args.questions)
            print(f"worker peak RSS: {await rss:.0f} MB (aim < 400 MB)")
    finally:
        postgres.drop_database(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--slow-s", type=float, default=30.0)
    args = parser.parse_args()
    async with running_fake_llm(FakeLlm(default=Mode.SLOW, slow_s=args.slow_s)) as fake:
        if args.jobs == 1:
            await embedded(fake, args)
        else:
            await distributed(fake, args)


if __name__ == "__main__":
    asyncio.run(main())
