"""The SQLite engine: the embedded default, made a safe server database.

Each connection gets foreign keys on, WAL so readers never wait for the writer, and a busy
timeout instead of instant "database is locked" errors. The file holds signing secrets and key
hashes, so it is made readable by its owner only. Its connections take one trip to their
thread per statement (`sqlite_driver.py`).
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from practicegen.db import sqlite_driver

BUSY_TIMEOUT_S = 10.0


def create_sqlite_engine(database_url: str) -> AsyncEngine:
    make_sqlite_file_private(make_url(database_url).database or "")
    engine: AsyncEngine
    checkpoints = sqlite_driver.WalCheckpoints()  # the database's, shared by its connections
    engine = create_async_engine(
        database_url,
        async_creator=lambda: sqlite_driver.connect(engine, BUSY_TIMEOUT_S, checkpoints),
    )
    event.listen(engine.sync_engine, "connect", _pragmas)
    return engine


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA wal_autocheckpoint = 0")  # sqlite_driver.WalCheckpoints does it
    cursor.close()


def make_sqlite_file_private(path: str) -> None:
    """Create the database file at `path` with mode 0600, or narrow an existing one (and its
    -wal and -shm) to it. SQLite gives the -wal and -shm files it creates later the database
    file's mode. In-memory and URI databases are left alone."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
    except FileNotFoundError:  # no such folder: SQLite says so when the engine first connects
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)
