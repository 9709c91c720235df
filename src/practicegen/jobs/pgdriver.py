"""pgqueuer's driver port on two connections of its own (its `PsycopgDriver` locks one while it
listens), each reopened when lost, as a QueueManager ends at its first failed statement."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar

import psycopg
import structlog
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.core.tm import TaskManager
from pgqueuer.ports.driver import NotifyCallback
from psycopg import sql

from practicegen.db.listener import KEEPALIVES
from practicegen.db.reconnect import Backoff

log = structlog.get_logger()
T = TypeVar("T")
WORKER_APPLICATION_NAME = "practicegen-worker"  # how API nodes see a worker's connections


class DriverStopped(psycopg.OperationalError):
    """The database is away and the driver was told to stop waiting for it."""


def said(exc: BaseException) -> str:
    """An error as a log line gives it: its type and its message."""
    return f"{type(exc).__name__}: {exc}"


def _gone(connection: psycopg.AsyncConnection[Any] | None) -> bool:
    return connection is None or connection.closed or connection.broken


class ReconnectingDriver:
    """pgqueuer's `Driver` port: queries on one autocommit connection, LISTEN on another."""

    def __init__(
        self,
        conninfo: str,
        backoff: Backoff,
        *,
        connect_timeout_s: float,
        on_change: Callable[[bool], None] = lambda _connected: None,
    ) -> None:
        self._conninfo = conninfo
        self._connect_args: dict[str, Any] = {
            "autocommit": True,
            "application_name": WORKER_APPLICATION_NAME,
            "connect_timeout": max(1, int(connect_timeout_s)),
            **KEEPALIVES,
        }
        self._backoff = backoff
        self._on_change = on_change
        self._queries: PsycopgDriver | None = None
        self._query_connection: psycopg.AsyncConnection[Any] | None = None
        self._listen_connection: psycopg.AsyncConnection[Any] | None = None
        self._opening = asyncio.Lock()
        self._listeners: dict[str, list[NotifyCallback]] = {}
        self._listening = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self.shutdown = asyncio.Event()
        self._stopping = asyncio.Event()
        self.tm = TaskManager()
        self._entered = 0
        self._connected = False

    @property
    def connected(self) -> bool:
        """Both connections up, LISTEN included (so also "the queue manager is running")."""
        return not _gone(self._query_connection) and self._listening.is_set()

    def stop_waiting(self) -> None:
        """Make statements waiting for the database fail at once (the worker is stopping)."""
        self._stopping.set()

    async def aclose(self) -> None:
        for connection in (self._query_connection, self._listen_connection):
            if connection is not None:
                with contextlib.suppress(psycopg.Error, OSError):
                    await connection.close()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return await self._statement(lambda queries: queries.fetch(query, *args))

    async def execute(self, query: str, *args: object) -> str:
        return await self._statement(lambda queries: queries.execute(query, *args))

    async def notify(self, channel: str, payload: str) -> None:
        await self._statement(lambda queries: queries.notify(channel, payload))

    async def _statement(self, send: Callable[[PsycopgDriver], Awaitable[T]]) -> T:
        while True:
            queries, connection = await self._open_queries()
            try:
                return await send(queries)
            except (psycopg.Error, OSError) as exc:
                if not _gone(connection):
                    raise  # the statement failed, not its connection
                log.warning("queue.connection_lost", error=said(exc))
                self._changed()

    async def _open_queries(self) -> tuple[PsycopgDriver, psycopg.AsyncConnection[Any]]:
        async with self._opening:
            while _gone(self._query_connection) or self._queries is None:
                connection = await self._open("queries")
                self._query_connection, self._queries = connection, PsycopgDriver(connection)
                self._changed()
            assert self._query_connection is not None
            return self._queries, self._query_connection

    async def _open(self, role: str) -> psycopg.AsyncConnection[Any]:
        """A new connection, retried with backoff until it opens or the driver stops waiting."""
        while True:
            # the LISTEN task also gives up once the driver is left (the queue manager is gone)
            if self._stopping.is_set() or (role == "listen" and self.shutdown.is_set()):
                raise DriverStopped("the worker stopped while the database was away")
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo, **self._connect_args
                )
            except (psycopg.Error, OSError) as exc:
                delay = self._backoff.next_delay()
                log.warning("queue.reconnect_failed", role=role, error=str(exc), retry_in_s=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            self._backoff.reset()
            return connection

    def _changed(self) -> None:
        if self.connected != self._connected:
            self._connected = self.connected
            log.info("queue.connections", connected=self._connected)
            self._on_change(self._connected)

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        new = channel not in self._listeners
        self._listeners.setdefault(channel, []).append(callback)
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._listen(), name="queue_listener")
            self.tm.add(self._watcher)
        elif new:
            await self._on_listen_connection(_listen(channel))
        await self._until_listening()

    async def _until_listening(self) -> None:
        waiters = {asyncio.create_task(e.wait()) for e in (self._stopping, self._listening)}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        if not self._listening.is_set():
            raise DriverStopped("the worker stopped while the database was away")

    async def remove_listener(self, channel: str, callback: NotifyCallback) -> None:
        callbacks = self._listeners.get(channel, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if callbacks or channel not in self._listeners:
            return
        del self._listeners[channel]
        await self._on_listen_connection(_listen(channel, "UNLISTEN"))

    async def _on_listen_connection(self, statement: sql.Composed) -> None:
        """Run `statement` on the LISTEN connection, if it is up: a lost one LISTENs anew."""
        connection = self._listen_connection
        if connection is not None and not _gone(connection):
            with contextlib.suppress(psycopg.Error):
                await connection.execute(statement)

    async def _listen(self) -> None:
        """Hold a LISTEN connection until the driver is left, opening a new one when lost."""
        while not self.shutdown.is_set():
            try:
                connection = await self._open("listen")
            except DriverStopped:
                return
            try:
                async with connection:
                    for channel in list(self._listeners):
                        await connection.execute(_listen(channel))
                    self._listen_connection = connection
                    self._listening.set()
                    self._changed()
                    await self._deliver(connection)
            except Exception as exc:  # whatever ended it, the queue must hear new jobs again
                log.warning("queue.listen_lost", error=said(exc))
            finally:
                self._listening.clear()
                self._listen_connection = None
                self._changed()
            with contextlib.suppress(TimeoutError):  # not a busy loop, whatever keeps failing
                await asyncio.wait_for(self.shutdown.wait(), self._backoff.next_delay())

    async def _deliver(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Until the connection is lost, or the driver left (which cancels this task)."""
        async for note in connection.notifies():
            for callback in list(self._listeners.get(note.channel, [])):
                try:
                    callback(note.payload)
                except Exception:
                    log.exception("queue.notification_failed", channel=note.channel)

    async def __aenter__(self) -> Self:
        # pgqueuer enters one driver from two managers; only the last exit stops listening
        if self._entered == 0:
            self.shutdown.clear()
        self._entered += 1
        return self

    async def __aexit__(self, *_: object) -> None:
        self._entered -= 1
        if self._entered > 0:
            return
        self.shutdown.set()
        if self._watcher is not None:  # it waits on notifications, not on `shutdown`
            self._watcher.cancel()
        await self.tm.gather_tasks()
        self._watcher = None
        self._listeners.clear()


def _listen(channel: str, verb: str = "LISTEN") -> sql.Composed:
    return sql.SQL(verb + " {}").format(sql.Identifier(channel))
