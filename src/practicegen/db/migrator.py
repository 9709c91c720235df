"""Applies the SQL files in `migrations/` (written for PostgreSQL, each in a transaction that
records its version) that a database has not seen yet, one runner at a time. SQLite gets its
own column types, so UUIDs stay text; `-- dialect: NAME` on a file's first line keeps it to one."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import psycopg
from sqlalchemy.engine import make_url

from practicegen.db.engine import make_sqlite_file_private

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 7_243_100_901  # any constant; names the "schema migrations" lock
_FILE_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_DIALECT_LINE = re.compile(r"--\s*dialect:\s*(\S*)")
_DIALECTS = ("postgresql", "sqlite")
_SQLITE_TYPES = (
    (re.compile(r"\bUUID\b"), "TEXT"),
    (re.compile(r"\bJSONB\b"), "TEXT"),
    (re.compile(r"\bTIMESTAMPTZ\b"), "TEXT"),
    (re.compile(r"\bDOUBLE PRECISION\b"), "REAL"),
    (re.compile(r"\bBIGINT\b"), "INTEGER"),
    (re.compile(r"^BEGIN;", re.MULTILINE), "BEGIN IMMEDIATE;"),
    (re.compile(r"\bADD COLUMN IF NOT EXISTS\b"), "ADD COLUMN"),
)
_LEDGER_EXISTS = {
    "postgresql": "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL",
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def dialect(self) -> str | None:
        """The one backend the file's first line names, if any."""
        match = _DIALECT_LINE.fullmatch(self.sql.partition("\n")[0].strip())
        if match is None:
            return None
        if match.group(1) not in _DIALECTS:  # a typo would otherwise run the file everywhere
            raise ValueError(f"migration file {self.path.name!r} names no known dialect")
        return match.group(1)


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    version: str
    name: str
    applied: bool


def available_migrations(
    directory: Path = MIGRATIONS_DIR, *, database_url: str | None = None
) -> list[Migration]:
    """The migration files in order; given a database URL, only those for its backend."""
    backend = None if database_url is None else make_url(database_url).get_backend_name()
    found = []
    for path in sorted(directory.glob("*.sql")):
        if (match := _FILE_NAME.match(path.name)) is None:
            raise ValueError(f"migration file {path.name!r} is not named NNN_snake_case.sql")
        migration = Migration(version=match.group(1), path=path)
        if migration.dialect in (None, backend) or backend is None:
            found.append(migration)
    return found


def sqlite_dialect(sql: str) -> str:
    """The PostgreSQL migration text, with its column types mapped for SQLite."""
    for pattern, replacement in _SQLITE_TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


def postgres_conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _connect_postgres(
    database_url: str, connect_timeout_s: float
) -> psycopg.AsyncConnection[tuple[object, ...]]:
    """An autocommit connection, or `ConnectionTimeout`: libpq alone would wait for ever."""
    return await psycopg.AsyncConnection.connect(
        postgres_conninfo(database_url),
        autocommit=True,
        connect_timeout=max(1, int(connect_timeout_s)),  # libpq's whole seconds
    )


def _sqlite_path(database_url: str) -> str:
    return make_url(database_url).database or ":memory:"


async def _applied(
    conn: psycopg.AsyncConnection[tuple[object, ...]] | aiosqlite.Connection, backend: str
) -> set[str]:
    cur = await conn.execute(_LEDGER_EXISTS[backend])
    if await cur.fetchone() is None:
        return set()
    cur = await conn.execute("SELECT version FROM schema_migrations")
    return {str(r[0]) for r in await cur.fetchall()}


async def status(database_url: str, *, connect_timeout_s: float = 5.0) -> list[MigrationStatus]:
    if make_url(database_url).get_backend_name() == "postgresql":
        async with await _connect_postgres(database_url, connect_timeout_s) as conn:
            applied = await _applied(conn, "postgresql")
    else:
        async with aiosqlite.connect(_sqlite_path(database_url)) as sqlite_conn:
            applied = await _applied(sqlite_conn, "sqlite")
    return [
        MigrationStatus(version=m.version, name=m.path.name, applied=m.version in applied)
        for m in available_migrations(database_url=database_url)
    ]


async def upgrade(
    database_url: str, *, connect_timeout_s: float = 5.0, directory: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply the missing migrations of `directory` in order; the versions this call applied."""
    if make_url(database_url).get_backend_name() == "postgresql":
        connection = await _connect_postgres(database_url, connect_timeout_s)
        return await _upgrade_postgres(connection, directory)
    make_sqlite_file_private(_sqlite_path(database_url))  # before SQLite creates it 0644
    return await _upgrade_sqlite(_sqlite_path(database_url), directory)


def _missing(applied: set[str], database_url: str, directory: Path) -> list[Migration]:
    known = available_migrations(directory, database_url=database_url)
    return [m for m in known if m.version not in applied]


async def _upgrade_postgres(
    connection: psycopg.AsyncConnection[tuple[object, ...]], directory: Path
) -> list[str]:
    done: list[str] = []
    async with connection as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            applied = await _applied(conn, "postgresql")
            for migration in _missing(applied, "postgresql://", directory):
                # No parameters: psycopg sends the whole file, BEGIN to COMMIT, as one script.
                await conn.execute(migration.sql.encode())
                done.append(migration.version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    return done


async def _upgrade_sqlite(path: str, directory: Path) -> list[str]:
    done: list[str] = []
    async with aiosqlite.connect(path, timeout=30) as conn:
        for migration in _missing(await _applied(conn, "sqlite"), "sqlite://", directory):
            try:
                await conn.executescript(sqlite_dialect(migration.sql))
            except sqlite3.OperationalError:
                await conn.rollback()
                if migration.version in await _applied(conn, "sqlite"):
                    continue  # another runner applied it since this one read the ledger
                raise
            done.append(migration.version)
    return done
