"""aiosqlite connections that take one trip to their thread per statement instead of four.

aiosqlite runs every sqlite3 call on the connection's own thread. SQLAlchemy's adapter makes
four such calls for each statement (open a cursor, execute, fetch the rows, close the cursor),
and each trip wakes the event loop and resumes the request's whole stack of coroutines: on the
embedded database that was a large share of a sync assign's CPU. Here a statement is executed,
its rows fetched and its cursor closed in one trip, and the cursor SQLAlchemy holds serves the
rows it already has; a commit or rollback outside a transaction (every read-only session's end)
takes no trip at all. aiosqlite still owns the thread, the connection and transactions. Every
result is fetched whole, as SQLAlchemy's adapter did for every cursor but a server-side one
(a streamed result is served in parts from what was fetched).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    description: _Description
    rowcount: int
    lastrowid: int | None
    rows: list[Any]


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


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def commit(self) -> None:
        if self._has_transaction():
            await super().commit()

    async def rollback(self) -> None:
        if self._has_transaction():
            await super().rollback()

    def _has_transaction(self) -> bool:
        """sqlite3 does nothing on commit or rollback outside a transaction (reads start none),
        so those need no trip. A closed connection takes the trip and fails as aiosqlite's."""
        return self._connection is None or self._connection.in_transaction

    async def run_statement(self, sql: str, parameters: Any, many: bool) -> _Outcome:
        outcome: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            _run, self._conn, sql, parameters, many
        )
        return outcome


async def connect(engine: AsyncEngine, timeout_s: float) -> OneTripConnection:
    """An `async_creator` for `engine`: connect to its database as its dialect would."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    open_sqlite: Callable[..., sqlite3.Connection] = sqlite3.connect
    connection = OneTripConnection(
        lambda: open_sqlite(*args, **kwargs, timeout=timeout_s), iter_chunk_size=64
    )
    connection._thread.daemon = True  # as SQLAlchemy does: never hold up the interpreter's exit
    await connection
    return connection
