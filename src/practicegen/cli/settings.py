"""Settings for a command, or one message naming each environment variable that is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from practicegen.cli.errors import CliError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from practicegen.config import Settings


def _problem(error: ErrorDetails) -> str:
    """One error, named by its variable unless its message already names it."""
    variable = f"PRACTICEGEN_{str(error['loc'][0]).upper()}" if error["loc"] else "settings"
    return error["msg"] if error["msg"].startswith(variable) else f"{variable}: {error['msg']}"


def load_settings() -> Settings:
    # the settings' modules load for the commands that read them, not for `--help`
    from pydantic import ValidationError

    from practicegen.config import Settings
    from practicegen.database_url import DATABASE_URL_EXAMPLES

    try:
        return Settings()
    except ValidationError as exc:
        errors = exc.errors()
        if [e["type"] for e in errors] == ["database_url"]:  # already says what to write
            raise CliError(f"{errors[0]['msg']}.") from None
        problems = "; ".join(_problem(e) for e in errors)
        names_database = any(e["loc"][:1] == ("database_url",) for e in errors)
        hint = f" A database URL is {DATABASE_URL_EXAMPLES}." if names_database else ""
        raise CliError(
            f"Invalid settings: {problems}. Fix the environment variables (or the .env file).{hint}"
        ) from None
