"""The queue's wake-up after creations commit: coalesced, and sent again on a new connection
when the server ended its own."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from practicegen.db.migrator import postgres_conninfo
from practicegen.jobs.queue_wakeup import QueueWakeup
from tests.jobs.conftest import Db
from tests.jobs.test_pg_store import heard

pytestmark = pytest.mark.postgres


def opener(database_url: str, opened: list[int]) -> Any:
    async def connect() -> psycopg.AsyncConnection[Any]:
        connection = await psycopg.AsyncConnection.connect(
            postgres_conninfo(database_url), autocommit=True
        )
        opened.append(connection.info.backend_pid)
        return connection

    return connect


async def test_commits_asking_at_once_are_woken_for_by_one_notify(
    postgres_database: str, db: Db
) -> None:
    await db.execute("LISTEN ch_pgqueuer")
    opened: list[int] = []
    wakeup = QueueWakeup(opener(postgres_database, opened))
    for _ in range(50):  # fifty creations committed in one turn of the loop
        wakeup.after_commit()
    await wakeup.close()
    assert [note.pid for note in await heard(db, 1.0)] == opened


async def test_a_wakeup_whose_connection_the_server_ended_goes_on_a_new_one(
    postgres_database: str, db: Db
) -> None:
    await db.execute("LISTEN ch_pgqueuer")
    opened: list[int] = []
    wakeup = QueueWakeup(opener(postgres_database, opened))
    try:
        wakeup.after_commit()
        assert len(await heard(db, 1.0)) == 1
        ended = await db.execute("SELECT pg_terminate_backend(%s, 5000)", (opened[0],))
        assert await ended.fetchone() == {"pg_terminate_backend": True}
        wakeup.after_commit()
        notes = await heard(db, 1.0)
    finally:
        await wakeup.close()
    assert len(opened) == 2 and [note.pid for note in notes] == opened[1:]
