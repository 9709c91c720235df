"""The database URLs people write (`postgres://`, `sqlite:///`, ...) made the async driver URLs
SQLAlchemy needs, or refused with pydantic's own error: the settings' validator for
`PRACTICEGEN_DATABASE_URL` calls this, so a URL SQLAlchemy cannot parse never escapes
`Settings()` as SQLAlchemy's error."""

from __future__ import annotations

from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_EXAMPLES = (
    "postgresql://USER:PASSWORD@HOST:5432/DATABASE or sqlite+aiosqlite:///./practicegen.db"
)


def normalise_database_url(url: str) -> str:
    """`url` for its async driver (`postgresql+psycopg://`, `sqlite+aiosqlite:///`). One that
    does not parse, or whose port is not a port, raises a `PydanticCustomError` naming the
    setting with examples; another kind of database, a `ValueError`."""
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        port_ok = parsed.port is None or 0 < parsed.port < 65536  # read as an int only here
    except (ArgumentError, ValueError):
        port_ok = False
    if not port_ok:
        raise PydanticCustomError(
            "database_url",
            "PRACTICEGEN_DATABASE_URL does not parse as a database URL; write {examples}",
            {"examples": DATABASE_URL_EXAMPLES},
        )
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
