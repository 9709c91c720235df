"""SQLite's one-trip connections: as aiosqlite's under SQLAlchemy with fewer trips, pipelined
commits on the loop that never wait or sync there, and WAL checkpoints on a thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from practicegen.db import sqlite_driver
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.sqlite_driver import OneTripConnection, committing, pipeline
from tests.conftest import make_settings


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"))
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread, in order."""
    sent: list[str] = []
    original = OneTripConnection._execute

    async def counting(
        self: OneTripConnection, fn: Callable[..., object], *args: object, **kwargs: object
    ) -> object:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(OneTripConnection, "_execute", counting)
    return sent


async def test_rows_counts_and_row_ids_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert first.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": b} for b in "bcd"]
        )
        assert many.rowcount == 3
        updated = await conn.execute(text("UPDATE notes SET body = body || '!' WHERE id > 2"))
        assert updated.rowcount == 2
        rows = (await conn.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]
        result = await conn.execute(text("SELECT body FROM notes ORDER BY id"))
        assert list(result.keys()) == ["body"]
        assert result.fetchone() == ("a",)
        assert result.fetchmany(2) == [("b",), ("c!",)]
        assert result.fetchall() == [("d!",)]


async def test_a_streamed_result_reads_in_parts(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": str(n)} for n in range(10)]
        )
        result = await conn.stream(text("SELECT body FROM notes ORDER BY id"))
        parts = [[row[0] for row in part] async for part in result.partitions(4)]
    assert parts == [["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8", "9"]]


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with sessionmaker() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('other')"))
            await session.execute(text("INSERT INTO notes (body) VALUES ('same')"))
    async with sessionmaker() as session:
        bodies = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
    assert bodies == ["same"]  # the failed transaction left nothing


async def test_each_statement_is_one_trip_and_a_read_needs_no_commit_or_rollback(
    engine: AsyncEngine, trips: list[str]
) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        await session.connection()  # connected before counting
    trips.clear()
    async with sessionmaker() as session, session.begin():
        await session.execute(text("SELECT count(*) FROM notes"))
        await session.execute(text("SELECT body FROM notes"))
    assert trips == ["_run_all", "_run_all"]
    trips.clear()
    async with sessionmaker() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('x')"))
    assert trips == ["_run_all", "_commit"]  # the process's first commit is made on the thread
    trips.clear()
    async with sessionmaker() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('z')"))
    assert trips == ["_run_all"]  # its transaction holds the write lock: committed on the loop
    trips.clear()
    with pytest.raises(RuntimeError):
        async with sessionmaker() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('y')"))
            raise RuntimeError("the request failed")
    assert trips == ["_run_all", "rollback"]
    async with sessionmaker() as session:
        bodies = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
    assert bodies == ["x", "z"]


async def test_disposing_the_engine_ends_its_threads(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"))
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as one, sessionmaker() as two:
        await one.execute(text("SELECT 1"))
        await two.execute(text("SELECT 1"))
        started = set(threading.enumerate()) - before
        assert len(started) == 2 and all(t.daemon for t in started)
    await engine.dispose()
    for thread in started:
        thread.join(timeout=5)
        assert not thread.is_alive()


async def _pipelined_commit(engine: AsyncEngine, body: str = "first") -> None:
    async with engine.begin() as conn, pipeline(conn):
        await conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


async def _bodies(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars())


async def test_pipelined_writes_and_their_commit_run_on_the_loop_in_no_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert isinstance(driver, OneTripConnection)
        driver._conn.create_function("thread", 0, threading.get_ident)
    await _pipelined_commit(engine)  # the process's first commit is made on the thread
    trips.clear()
    async with engine.begin() as conn, pipeline(conn):
        held = await conn.execute(text("INSERT INTO notes (body) VALUES ('a' || thread())"))
        assert held.rowcount == -1  # not sent yet
        await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": b} for b in "bc"]
        )
    assert trips == []
    assert await _bodies(engine) == ["first", f"a{threading.get_ident()}", "b", "c"]
    async with engine.connect() as conn:  # the busy handler is back; checkpoints are ours
        for pragma, value in (("busy_timeout", 10_000), ("wal_autocheckpoint", 0)):
            assert (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar_one() == value


async def test_a_pipelined_write_that_fails_fails_the_commit_and_leaves_nothing(
    engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(engine)
    with pytest.raises(IntegrityError):
        async with (
            sessionmaker() as session,
            session.begin(),
            pipeline(await session.connection()),
        ):
            await session.execute(text("INSERT INTO notes (body) VALUES ('one')"))
            await session.execute(text("INSERT INTO notes (body) VALUES ('one')"))
    async with sessionmaker() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('two')"))
    assert await _bodies(engine) == ["two"]


async def test_a_read_sends_the_held_back_writes_before_it_in_the_same_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 1"))  # connected before counting
        trips.clear()
        async with pipeline(conn):
            await conn.execute(text("INSERT INTO notes (body) VALUES ('a')"))
            count = await conn.execute(text("SELECT count(*) FROM notes"))
            assert count.scalar_one() == 1
            await conn.execute(text("INSERT INTO notes (body) VALUES ('b')"))
    assert trips == ["_run_all", "_commit"]  # in a transaction already: all on the thread
    assert await _bodies(engine) == ["a", "b"]


async def test_a_pipelined_commit_waits_for_another_writer_on_the_thread_not_the_loop(
    engine: AsyncEngine, trips: list[str], tmp_path: Path
) -> None:
    await _pipelined_commit(engine)  # the first, on the thread: the next tries the loop
    other = sqlite3.connect(tmp_path / "d.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    other.execute("INSERT INTO notes (body) VALUES ('other')")

    trips.clear()
    writing = asyncio.create_task(_pipelined_commit(engine, "ours"))
    ticks = 0
    started = time.monotonic()
    while time.monotonic() - started < 0.3:
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks >= 10 and not writing.done()  # the loop ran on while the commit waited
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    other.close()
    assert trips == ["_commit"]
    assert await _bodies(engine) == ["first", "other", "ours"]


async def _committed_at_once(engine: AsyncEngine, body: str) -> int:
    """A lone write with RETURNING, committed as it runs; the id it returned."""
    async with engine.connect() as conn, committing(conn):
        insert = text("INSERT INTO notes (body) VALUES (:body) RETURNING id")
        row_id = (await conn.execute(insert, {"body": body})).scalar_one()
        await conn.commit()
    return int(row_id)


async def test_a_committing_write_returns_its_rows_committed_on_the_loop_in_no_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    await _pipelined_commit(engine)  # the first, on the thread: the next tries the loop
    trips.clear()
    assert await _committed_at_once(engine, "ours") == 2
    assert trips == []
    assert await _bodies(engine) == ["first", "ours"]


async def test_a_committing_write_waits_for_another_writer_in_one_trip_not_on_the_loop(
    engine: AsyncEngine, trips: list[str], tmp_path: Path
) -> None:
    await _pipelined_commit(engine)
    other = sqlite3.connect(tmp_path / "d.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    other.execute("INSERT INTO notes (body) VALUES ('other')")

    trips.clear()
    writing = asyncio.create_task(_committed_at_once(engine, "ours"))
    await asyncio.sleep(0.2)
    assert not writing.done()  # the loop ran on while the write waited
    other.execute("COMMIT")
    assert await asyncio.wait_for(writing, 5) == 3
    other.close()
    assert trips == ["_commit"]
    assert await _bodies(engine) == ["first", "other", "ours"]


async def test_a_committing_write_in_a_transaction_waits_for_its_commit(
    engine: AsyncEngine,
) -> None:
    """Begun by an earlier write, the transaction is the caller's to commit or roll back."""
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('begun')"))
        async with committing(conn):
            await conn.execute(text("INSERT INTO notes (body) VALUES ('with it')"))
        await conn.rollback()
    await _committed_at_once(engine, "alone")
    assert await _bodies(engine) == ["alone"]


async def test_checkpoints_run_on_a_thread_and_commits_leave_the_loop_meanwhile(
    engine: AsyncEngine, trips: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY_CHANGES", 3)
    go_on, done = asyncio.Event(), asyncio.Event()
    checkpoint = OneTripConnection.checkpoint

    async def held(connection: OneTripConnection) -> None:
        await go_on.wait()
        await checkpoint(connection)
        done.set()

    monkeypatch.setattr(OneTripConnection, "checkpoint", held)
    database = tmp_path / "d.db"
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # connected before counting
    trips.clear()
    await _pipelined_commit(engine, "x" * 9000)  # the first: on the thread
    await _pipelined_commit(engine, "y" * 9000)  # on the loop
    await _pipelined_commit(engine, "z" * 9000)  # on the loop; three changes: a checkpoint
    assert trips == ["_commit"]
    await asyncio.sleep(0)
    size = database.stat().st_size
    await _pipelined_commit(engine, "while")  # the checkpoint under way: on the thread
    assert trips == ["_commit", "_commit"]
    go_on.set()
    await asyncio.wait_for(done.wait(), 5)
    assert trips == ["_commit", "_commit", "_checkpoint"]
    assert database.stat().st_size > size  # the WAL's pages are in the database file now
    await _pipelined_commit(engine, "after")  # on the loop again
    assert trips == ["_commit", "_commit", "_checkpoint"]
    assert len(await _bodies(engine)) == 5


async def test_after_a_failed_checkpoint_the_next_commit_is_made_on_the_thread(
    engine: AsyncEngine, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY_CHANGES", 2)
    failed = asyncio.Event()

    async def failing(connection: OneTripConnection) -> None:
        failed.set()
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(OneTripConnection, "checkpoint", failing)
    await _pipelined_commit(engine, "first")  # on the thread
    await _pipelined_commit(engine, "second")  # on the loop; two changes: a checkpoint
    await asyncio.wait_for(failed.wait(), 5)
    await asyncio.sleep(0)  # its end reported
    trips.clear()
    await _pipelined_commit(engine, "third")  # the WAL may start over: on the thread
    await _pipelined_commit(engine, "fourth")  # on the loop again
    assert trips == ["_commit"]
    assert await _bodies(engine) == ["first", "second", "third", "fourth"]
