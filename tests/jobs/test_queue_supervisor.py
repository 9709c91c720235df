"""The PostgreSQL queue's supervisor: a consumer whose run loop fails is built again; its backoff.

The reconnecting driver keeps pgqueuer's loop alive through a lost connection; whatever still
ends the loop (here: pgqueuer's tables not there yet, as when a worker starts before
`practicegen db upgrade` finished) must not end the consumer. It waits, with backoff, says it
is not taking jobs, and runs as soon as the loop can start.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.queries import Queries
from pydantic import ValidationError

from practicegen.config import Settings
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.reconnect import Backoff
from practicegen.jobs.queue import ENTRYPOINT, PostgresQueue
from practicegen.jobs.worker_state import WorkerStatus
from tests.jobs.conftest import Db
from tests.support.processes import wait_until


@pytest.mark.postgres
async def test_a_consumer_whose_run_loop_fails_is_built_again(
    postgres_database: str, db: Db
) -> None:
    await db.execute("ALTER TABLE pgqueuer_log RENAME TO pgqueuer_log_away")
    queue = PostgresQueue(
        postgres_conninfo(postgres_database),
        heartbeat_timeout_s=3,
        poll_s=0.2,
        backoff=Backoff(0.05, 0.2),
    )
    ran: list[uuid.UUID] = []

    async def handler(job_id: uuid.UUID) -> None:
        ran.append(job_id)

    async def status_is(status: WorkerStatus) -> bool:
        return queue.state.status is status

    consumer = asyncio.create_task(queue.run(handler, concurrency=2))
    try:
        await wait_until(lambda: status_is(WorkerStatus.RECONNECTING), limit_s=10, what="failed")
        await asyncio.sleep(0.5)  # several rounds of failing and waiting
        assert not consumer.done()
        assert await status_is(WorkerStatus.RECONNECTING)

        await db.execute("ALTER TABLE pgqueuer_log_away RENAME TO pgqueuer_log")
        await wait_until(lambda: status_is(WorkerStatus.RUNNING), limit_s=10, what="running")
        job_id = uuid.uuid4()
        await Queries(PsycopgDriver(db)).enqueue(ENTRYPOINT, job_id.bytes)  # type: ignore[arg-type]

        async def handled() -> bool:
            return ran == [job_id]

        await wait_until(handled, limit_s=10, what="the message to be handled")
    finally:
        queue.stop()
        await asyncio.wait_for(consumer, 10)
    assert await status_is(WorkerStatus.STOPPED)


def test_the_wait_doubles_up_to_its_cap_with_jitter_and_starts_over_once_reset() -> None:
    backoff = Backoff(0.5, 3.0)
    waits = [backoff.next_delay() for _ in range(6)]
    caps = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(waits, caps, strict=True)), waits
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_settings_refuse_a_reconnect_cap_below_the_first_wait() -> None:
    with pytest.raises(ValidationError, match="DB_RECONNECT_MAX_S"):
        Settings(_env_file=None, db_reconnect_initial_s=5, db_reconnect_max_s=1)
