"""The database as commands use it: named in every message, its failures explained, created
only by `serve` and `db upgrade`. Every other command first checks that it exists and is
migrated (`ready_session`), so a mistyped path leaves no empty `practicegen.db` behind.
Its modules load inside these functions: `--help` and the commands that speak HTTP never do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from practicegen.cli.errors import CliError, ExitCode

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from practicegen.config import Settings
    from practicegen.db.migrator import MigrationStatus

T = TypeVar("T")


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file the settings name; None for PostgreSQL or an in-memory database."""
    from sqlalchemy.engine import make_url

    from practicegen.config import DatabaseKind

    if settings.database_kind is not DatabaseKind.SQLITE:
        return None
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()


def describe(settings: Settings) -> str:
    """The database as a person would name it (never with its password), in lower case."""
    from sqlalchemy.engine import make_url

    from practicegen.config import DatabaseKind

    if (path := sqlite_path(settings)) is not None:
        return f"the SQLite file {path}"
    url = make_url(settings.database_url)
    if settings.database_kind is DatabaseKind.SQLITE:
        return "an in-memory SQLite database"
    return (
        f"the PostgreSQL database {url.database!r} at {url.host or 'localhost'}:{url.port or 5432}"
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def require_existing(settings: Settings) -> None:
    """Refuse, before anything opens it, a SQLite file that is not there."""
    path = sqlite_path(settings)
    if path is not None and not path.exists():
        raise CliError(
            f"There is no practicegen database at {path}. Without PRACTICEGEN_DATABASE_URL, "
            "practicegen uses practicegen.db in the current folder: run the command where "
            "`practicegen serve` runs, set PRACTICEGEN_DATABASE_URL, or create the database "
            "with `practicegen db upgrade`.",
            exit_code=ExitCode.UNAVAILABLE,
        )


def require_folder(settings: Settings) -> None:
    """Refuse a SQLite file whose folder is not there, before anything tries to create it."""
    path = sqlite_path(settings)
    if path is not None and not path.parent.is_dir():
        raise CliError(
            f"The folder {path.parent} of the SQLite file {path.name} does not exist. Create "
            "it, or fix PRACTICEGEN_DATABASE_URL.",
            exit_code=ExitCode.UNAVAILABLE,
        )


def _no_tables(where: str) -> CliError:
    return CliError(
        f"{_first_upper(where)} has no practicegen tables. Run `practicegen db upgrade` (or start "
        "`practicegen serve` once) to create its tables.",
        exit_code=ExitCode.UNAVAILABLE,
    )


async def migrations(settings: Settings) -> list[MigrationStatus]:
    """Every migration this build knows, and whether the database has it (connects once)."""
    from practicegen.db import migrator

    return await migrator.status(
        settings.database_url, connect_timeout_s=settings.db_connect_timeout_s
    )


async def require_schema(settings: Settings) -> None:
    """Refuse a database that is not there (before anything opens it) or lacks a migration."""
    require_existing(settings)
    rows = await migrations(settings)
    pending = [row.version for row in rows if not row.applied]
    if len(pending) == len(rows):
        raise _no_tables(describe(settings))
    if pending:
        raise CliError(
            f"{_first_upper(describe(settings))} lacks migrations {', '.join(pending)}. "
            "Run `practicegen db upgrade` to apply them.",
            exit_code=ExitCode.UNAVAILABLE,
        )


async def reachable(settings: Settings, *, need_schema: bool) -> None:
    """Connect once (reading the migration ledger), so a long-running command that cannot
    reach its database says so at start rather than in its logs."""
    await (require_schema(settings) if need_schema else migrations(settings))


@asynccontextmanager
async def ready_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A transaction on a database that exists and has every migration applied."""
    from practicegen.bootstrap import transaction

    await require_schema(settings)
    async with transaction(settings) as session:
        yield session


def run(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end, its database failures explained."""
    import asyncio
    import sqlite3

    import psycopg
    from sqlalchemy.exc import DBAPIError

    try:
        return asyncio.run(work)
    except (DBAPIError, psycopg.Error, sqlite3.Error, OSError) as exc:
        if (problem := explain(exc, settings)) is None:
            raise
        raise problem from exc


def explain(exc: BaseException, settings: Settings) -> CliError | None:
    """A failure to use the database as one message with its fix; None if it is not one."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause)
    where = describe(settings)
    if isinstance(cause, psycopg.errors.UndefinedTable) or "no such table" in text:
        return _no_tables(where)
    if isinstance(cause, psycopg.OperationalError):
        return _postgres_problem(text, where)
    for sign, fix in _SQLITE_PROBLEMS:
        if sign in text:
            return CliError(f"Cannot use {where}: {text}. {fix}", exit_code=ExitCode.UNAVAILABLE)
    if isinstance(cause, OSError) and cause.filename is not None:  # the file, not a socket
        message = f"Cannot open {cause.filename} for {where}: {cause.strerror or text}."
        return CliError(message, exit_code=ExitCode.UNAVAILABLE)
    return None


_SQLITE_PROBLEMS = (
    (
        "unable to open database file",
        "Its folder must exist and be writable: create it, or fix PRACTICEGEN_DATABASE_URL.",
    ),
    ("file is not a database", "Point PRACTICEGEN_DATABASE_URL at practicegen's database."),
    ("database is locked", "Another process is writing to it; try again when it is done."),
)


def _postgres_problem(text: str, where: str) -> CliError:
    # libpq: 'connection failed: connection to server at "h", port 5432 failed: FATAL:  ...'
    reason = text.rsplit("failed: ", 1)[-1].splitlines()[0].removeprefix("FATAL:").strip()
    if "database" in reason and "does not exist" in reason:
        fix = "Create it (`createdb` on that server), then run `practicegen db upgrade`."
    elif "timeout" in reason:
        fix = (
            "Check that PostgreSQL is running there and that this machine can reach it (a"
            " firewall that drops packets looks like this); PRACTICEGEN_DB_CONNECT_TIMEOUT_S"
            " sets how long to wait."
        )
    elif "password" in reason or "role" in reason or "authentication" in reason:
        fix = "Fix the user or password in PRACTICEGEN_DATABASE_URL."
    else:
        fix = (
            "Check that PostgreSQL is running there and that PRACTICEGEN_DATABASE_URL names "
            "the right host and port."
        )
    return CliError(f"Cannot connect to {where}: {reason}. {fix}", exit_code=ExitCode.UNAVAILABLE)
