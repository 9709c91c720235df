"""The writing side of `bench_streams.py`, run in a process of its own: the writes' CPU (an ORM
session each, as the worker's) would otherwise delay the subscribers' receipt of the messages
they cause in the same event loop, and the writes would queue behind the receipts.

Each write puts `bench <n> <t>` in its message, `t` being `time.perf_counter()` when the write
began: CLOCK_MONOTONIC, shared by the processes of one machine, so a subscriber in another
process times the message from it.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.jobs.pg_store import POSTGRES_WRITES
from practicegen.jobs.repository import JobRepository, ProgressReport

BARE_CHANNEL = "bench_streams"


def parse(text: str) -> tuple[int, float] | None:
    """(n, the time the write began) from a message's text, or None if not a bench write's."""
    parts = text.split(" ")
    if len(parts) != 3 or parts[0] != "bench":
        return None
    return int(parts[1]), float(parts[2])


async def bare_write(
    sessionmaker: SessionMaker, job_id: uuid.UUID, percent: int, text: str
) -> None:
    """One `pg_notify` of the job's message, `key|json`, in a transaction."""
    message = {
        "type": "status",
        "status": "processing",
        "progress_percent": percent,
        "progress_message": text,
    }
    payload = f"{job_id}|{json.dumps(message)}"
    async with sessionmaker() as session, session.begin():
        await session.execute(select(func.pg_notify(BARE_CHANNEL, payload)))


async def progress_write(
    sessionmaker: SessionMaker, job_id: uuid.UUID, percent: int, text: str
) -> None:
    """The worker's own progress write: an UPDATE and its NOTIFY, in one transaction."""
    async with sessionmaker() as session, session.begin():
        report = ProgressReport(job_id, 1, percent, text)
        owned = await JobRepository(session, POSTGRES_WRITES).progress_many(
            [report], datetime.now(UTC)
        )
    assert owned, "a bench job lost its attempt"


async def _writes(
    url: str, bare: bool, jobs: list[uuid.UUID], count: int, rate: float
) -> list[float]:
    settings = Settings(_env_file=None, database_url=url, demo_bank=False)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    write = bare_write if bare else progress_write
    durations: list[float] = []

    async def timed(n: int) -> None:
        began = time.perf_counter()
        percent = min(99, 1 + n // len(jobs))
        await write(sessionmaker, jobs[n % len(jobs)], percent, f"bench {n} {began!r}")
        durations.append((time.perf_counter() - began) * 1000)

    try:
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                group.create_task(timed(n))
    finally:
        await engine.dispose()
    return durations


def _run(
    url: str,
    bare: bool,
    jobs: list[str],
    count: int,
    rate: float,
    out: multiprocessing.SimpleQueue[list[float]],
) -> None:
    out.put(asyncio.run(_writes(url, bare, [uuid.UUID(j) for j in jobs], count, rate)))


async def write_in_a_process(
    url: str, *, bare: bool, jobs: list[uuid.UUID], count: int, rate: float
) -> list[float]:
    """Make `count` writes at `rate` a second in a new process; each write's time to commit (ms)."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.SimpleQueue[list[float]] = context.SimpleQueue()
    process = context.Process(
        target=_run, args=(url, bare, [str(j) for j in jobs], count, rate, out)
    )
    process.start()
    try:
        durations: list[float] = await asyncio.to_thread(out.get)
    finally:
        await asyncio.to_thread(process.join, 30)
    return durations
