"""Settings for a command, or one message naming each environment variable that is wrong."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import ArgumentError

from practicegen.cli.errors import CliError
from practicegen.config import Settings

URL_EXAMPLES = (
    "sqlite+aiosqlite:///./practicegen.db (a file in the current folder) or "
    "postgresql://USER:PASSWORD@HOST:5432/DATABASE"
)


def _variable(loc: tuple[int | str, ...]) -> str:
    return f"PRACTICEGEN_{str(loc[0]).upper()}" if loc else "settings"


def load_settings() -> Settings:
    try:
        return Settings()
    except ArgumentError as exc:  # SQLAlchemy's URL parser, raised through the validator
        raise CliError(
            f"PRACTICEGEN_DATABASE_URL does not parse as a database URL. Write {URL_EXAMPLES}."
        ) from exc
    except ValidationError as exc:
        errors = exc.errors()
        problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in errors)
        hint = f" A database URL is {URL_EXAMPLES}." if _names_database(errors) else ""
        raise CliError(
            f"Invalid settings: {problems}. Fix the environment variables (or the .env file).{hint}"
        ) from exc


def _names_database(errors: list[ErrorDetails]) -> bool:
    return any(e["loc"][:1] == ("database_url",) for e in errors)
