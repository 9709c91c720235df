"""The queue port's promise on both adapters: a message is never dropped by a failing handler.

The runner turns every failure of a job into the job's outcome, so an exception that reaches
the queue is the infrastructure failing around the job (no pooled connection to claim it
with, say). The message must come back and be handled again, or the job would stay pending
forever. Real pgqueuer on PostgreSQL, its in-memory adapter on SQLite.
"""

from __future__ import annotations

import asyncio
import uuid

from practicegen.app import create_queue
from practicegen.bootstrap import prepare
from practicegen.db.engine import create_engine, create_sessionmaker
from tests.conftest import make_settings


async def test_a_message_whose_handler_fails_is_handed_back(database_url: str) -> None:
    settings = make_settings(database_url, queue_poll_s=0.2)
    await prepare(settings)
    engine = create_engine(settings)
    queue = create_queue(settings)
    job_id = uuid.uuid4()
    calls: list[uuid.UUID] = []
    done = asyncio.Event()

    async def flaky_handler(handled: uuid.UUID) -> None:
        calls.append(handled)
        if len(calls) == 1:
            raise RuntimeError("QueuePool limit reached")  # what claiming a job once hit
        done.set()

    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await queue.enqueue(session, job_id)
        consumer = asyncio.create_task(queue.run(flaky_handler, concurrency=2))
        try:
            async with asyncio.timeout(20):
                await done.wait()
        finally:
            queue.stop()
            await asyncio.wait_for(consumer, 10)
        assert calls == [job_id, job_id]
    finally:
        await engine.dispose()


async def test_a_message_is_handed_over_once_its_transaction_commits_and_never_if_rolled_back(
    database_url: str,
) -> None:
    """Both adapters: a message enqueued in a transaction that rolls back is never handled
    (in memory it is held for the commit, which never comes); a committed one is, once."""
    settings = make_settings(database_url, queue_poll_s=0.2)
    await prepare(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    queue = create_queue(settings)
    dropped, kept = uuid.uuid4(), uuid.uuid4()
    calls: list[uuid.UUID] = []
    done = asyncio.Event()

    async def handler(handled: uuid.UUID) -> None:
        calls.append(handled)
        done.set()

    try:
        async with sessionmaker() as session:
            await session.begin()
            await queue.enqueue(session, dropped)
            await session.rollback()
            async with session.begin():  # the same session commits something else after
                await queue.enqueue(session, kept)
        consumer = asyncio.create_task(queue.run(handler, concurrency=2))
        try:
            async with asyncio.timeout(20):
                await done.wait()
            await asyncio.sleep(0.5)  # time for a wrongly kept message to be handled too
        finally:
            queue.stop()
            await asyncio.wait_for(consumer, 10)
        assert calls == [kept]
    finally:
        await engine.dispose()
