"""The SQLite engine's connections: one trip to their thread per statement instead of four. In a
`pipeline`, writes nobody reads go with the commit; while `committing`, a lone write commits as it
runs. A commit runs on the loop's thread when it cannot wait there (its transaction holds the
write lock, or the lock is free)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Self

import aiosqlite
import structlog
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

CHECKPOINT_EVERY_CHANGES = 1000
_WRITES = ("insert", "update", "delete", "replace")

log = structlog.get_logger()

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    description: _Description
    rowcount: int
    lastrowid: int | None
    rows: list[Any]


_HELD_BACK = _Outcome(None, -1, None, [])
_Step = tuple[str, Any, bool]


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: execute, fetch everything and close the cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(cursor.description, cursor.rowcount, cursor.lastrowid, rows)
    finally:
        cursor.close()


def _run_all(connection: sqlite3.Connection, steps: list[_Step]) -> _Outcome:
    """`_run` each step in turn (the held-back writes, then a statement); the last's outcome."""
    outcome = _HELD_BACK
    for sql, parameters, many in steps:
        outcome = _run(connection, sql, parameters, many)
    return outcome


def _commit(connection: sqlite3.Connection, steps: list[_Step]) -> _Outcome:
    """On the connection's thread: the held-back writes, then the commit; the last's outcome."""
    outcome = _run_all(connection, steps)
    connection.commit()
    return outcome


def _checkpoint(connection: sqlite3.Connection) -> None:
    """On the connection's thread: checkpoint the WAL, then write to it, changing nothing, so
    the write that starts the WAL over (syncing its header) is this, not a commit on the loop."""
    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    connection.execute("BEGIN IMMEDIATE").close()
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        connection.execute(f"PRAGMA user_version = {int(version)}").close()
    finally:
        connection.commit()


def is_write(sql: str) -> bool:
    """Whether `sql` changes rows (what SQLite needs its write lock for)."""
    return sql.lstrip()[:7].lower().startswith(_WRITES)


class OneTripCursor:
    """The cursor protocol SQLAlchemy's aiosqlite adapter uses, over already fetched rows."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Self:
        return await self._take(sql, () if parameters is None else parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        return await self._take(sql, parameters, many=True)

    async def _take(self, sql: str, parameters: Any, *, many: bool) -> Self:
        outcome = await self._connection.run_statement(sql, parameters, many)
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid
        self._rows = deque(outcome.rows)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(len(self._rows), self.arraysize if size is None else size)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class WalCheckpoints:
    """A database's WAL checkpoints, one per `CHECKPOINT_EVERY_CHANGES` changed rows; commits stay
    off the loop (the next write syncs the WAL's header) until the first, and during one."""

    def __init__(self) -> None:
        self._changes = 0
        self._running: asyncio.Future[None] | None = None
        self._running_on: OneTripConnection | None = None
        self._wal_started = False

    @property
    def loop_may_commit(self) -> bool:
        return self._wal_started and self._running is None

    def committed(self, connection: OneTripConnection, changes: int, *, on_thread: bool) -> None:
        if on_thread and self._running is None:
            self._wal_started = True
        self._changes += changes
        if self._changes >= CHECKPOINT_EVERY_CHANGES and self._running is None:
            self._changes = 0
            self._running = asyncio.ensure_future(connection.checkpoint())
            self._running_on = connection
            self._running.add_done_callback(self._finished)

    async def settled(self, connection: OneTripConnection) -> None:
        """Once no checkpoint is under way on `connection` (which then may close)."""
        if self._running is not None and self._running_on is connection:
            await asyncio.wait({self._running})

    def _finished(self, checkpoint: asyncio.Future[None]) -> None:
        self._running = None
        self._running_on = None
        error = None if checkpoint.cancelled() else checkpoint.exception()
        self._wal_started = not checkpoint.cancelled() and error is None
        if error is not None:
            log.warning("sqlite.checkpoint_failed", error=str(error))


class OneTripConnection(aiosqlite.Connection):
    def __init__(
        self, *args: Any, busy_timeout_ms: int, checkpoints: WalCheckpoints, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pipelining = False
        self.committing = False
        self._held_back: list[_Step] = []
        self._busy_timeout_ms = busy_timeout_ms
        self._checkpoints = checkpoints
        self._changes_counted = 0

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        steps, self._held_back = self._held_back, []
        if steps or self._has_transaction():
            await self._commit_steps(steps)

    async def _commit_steps(self, steps: list[_Step]) -> _Outcome:
        """`steps` and the commit: on the loop's thread when that cannot wait on a lock, else in
        one trip to the connection's thread; the last step's outcome."""
        outcome = self._committed_here(steps) if self._checkpoints.loop_may_commit else None
        on_thread = outcome is None
        if outcome is None:
            outcome = await self._execute(_commit, self._conn, steps)  # type: ignore[no-untyped-call]
        changes = self._conn.total_changes
        self._checkpoints.committed(self, changes - self._changes_counted, on_thread=on_thread)
        self._changes_counted = changes
        return outcome

    async def rollback(self) -> None:
        self._held_back.clear()  # never sent
        if self._has_transaction():
            await super().rollback()

    async def checkpoint(self) -> None:
        await self._execute(_checkpoint, self._conn)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        # a checkpoint scheduled by this connection's last commit runs before its close, not after
        await self._checkpoints.settled(self)
        await super().close()

    def _committed_here(self, steps: list[_Step]) -> _Outcome | None:
        """Run `steps` and commit on this thread, if that cannot wait on a lock: the last step's
        outcome, or None with nothing done. A transaction already begun wrote first (Python's
        sqlite3 begins before a write), so it holds the write lock; one not begun tries for it
        without waiting, and gives up if another process holds it. Only while no statement of
        this connection runs on its thread."""
        connection = self._conn
        if connection.in_transaction:
            return _commit(connection, steps)
        connection.execute("PRAGMA busy_timeout = 0").close()
        try:
            return _commit(connection, steps)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise  # not another process's write lock
            connection.rollback()
            return None
        finally:
            connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}").close()

    def _has_transaction(self) -> bool:
        """Whether commit or rollback needs a trip (a closed connection takes it, to fail)."""
        return self._connection is None or self._connection.in_transaction

    async def run_statement(self, sql: str, parameters: Any, many: bool) -> _Outcome:
        if self.pipelining and is_write(sql):
            self._held_back.append((sql, parameters, many))
            return _HELD_BACK
        steps, self._held_back = [*self._held_back, (sql, parameters, many)], []
        if self.committing and not self._conn.in_transaction and is_write(sql):
            return await self._commit_steps(steps)
        outcome: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            _run_all, self._conn, steps
        )
        return outcome


@asynccontextmanager
async def pipeline(connection: AsyncConnection) -> AsyncIterator[None]:
    """Hold back the writes `connection` executes inside until its commit (none on PostgreSQL):
    only for writes whose outcome nothing reads, as an error in one is raised by the commit."""
    with _flag_set((await connection.get_raw_connection()).driver_connection, "pipelining"):
        yield


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """`pipeline` for code that runs in SQLAlchemy's synchronous layer (an event hook)."""
    with _flag_set(connection.connection.driver_connection, "pipelining"):
        yield


@asynccontextmanager
async def committing(connection: AsyncConnection) -> AsyncIterator[None]:
    """Commit each write `connection` executes inside, outside a transaction, as it runs: on the
    loop's thread if the write lock is free, else in the statement's own trip; nothing on
    PostgreSQL. For a lone write whose outcome is read, which a `pipeline` cannot hold back."""
    with _flag_set((await connection.get_raw_connection()).driver_connection, "committing"):
        yield


@contextmanager
def _flag_set(driver: object, flag: Literal["pipelining", "committing"]) -> Iterator[None]:
    """`driver`'s `flag` set while the block runs, if it is a `OneTripConnection`."""
    if not isinstance(driver, OneTripConnection):
        yield
        return
    setattr(driver, flag, True)
    try:
        yield
    finally:
        setattr(driver, flag, False)


async def connect(
    engine: AsyncEngine, timeout_s: float, checkpoints: WalCheckpoints, pragmas: Sequence[str]
) -> OneTripConnection:
    """An `async_creator` for `engine`; `checkpoints` is shared by all its connections, which
    run `pragmas` as they open, in the same trip."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    open_sqlite: Callable[..., sqlite3.Connection] = sqlite3.connect

    def opened() -> sqlite3.Connection:
        connection = open_sqlite(*args, **kwargs, timeout=timeout_s)
        for pragma in pragmas:
            connection.execute(pragma).close()
        return connection

    connection = OneTripConnection(
        opened, iter_chunk_size=64, busy_timeout_ms=int(timeout_s * 1000), checkpoints=checkpoints
    )
    connection._thread.daemon = True  # as SQLAlchemy does: never hold up the interpreter's exit
    await connection
    return connection
