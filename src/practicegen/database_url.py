"""The database URLs people write (`postgres://`, `sqlite:///`, ...) made the async driver URLs
SQLAlchemy needs, or refused with pydantic's own error, so a bad URL fails `Settings()` cleanly."""

from __future__ import annotations

from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_EXAMPLES = (
    "postgresql://USER:PASSWORD@HOST:5432/DATABASE or sqlite+aiosqlite:///./practicegen.db"
)
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite": "sqlite+aiosqlite",
}


def normalise_database_url(url: str) -> str:
    """`url` for its async driver; a `PydanticCustomError` with examples if it does not parse,
    a `ValueError` for another kind of database."""
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
    if (driver := _DRIVERS.get(backend)) is None:
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)
