"""The command line's one error handler: every failure ends in a short message that says what
went wrong and how to fix it, and a non-zero exit code; never a traceback (unless asked for
with `--traceback`).

    CliError            a mistake the user can fix; its message is shown as it is
    httpx.HTTPError     the server named by --url or PRACTICEGEN_URL cannot be reached
    anything else       a bug: named, with the way to see its traceback

Database failures become `CliError`s where the database is used (`cli/database.py`), since the
message names the database the command tried.
"""

from __future__ import annotations

import sys
import traceback
from enum import IntEnum
from typing import TYPE_CHECKING

from practicegen.cli.console import err, say
from practicegen.redaction import redact

if TYPE_CHECKING:
    import httpx


class ExitCode(IntEnum):
    OK = 0
    NO = 1  # the command ran, and its answer is no: pending migrations, a failed job, a refusal
    USAGE = 2  # it cannot run as asked: an option, a setting or an input file is wrong
    UNAVAILABLE = 3  # something it needs is missing: the server, the database, its tables, a port
    INTERNAL = 70  # a bug: a failure practicegen did not expect
    INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """A failure explained for the person at the terminal: what went wrong, then the fix."""

    def __init__(self, message: str, *, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def _server(exc: httpx.HTTPError | httpx.InvalidURL) -> str | None:
    """The base URL a failed request went to; None if it failed before it had one."""
    import httpx

    if isinstance(exc, httpx.InvalidURL):
        return None
    try:
        return redact(str(exc.request.url.copy_with(path="/", query=None)).rstrip("/"))
    except RuntimeError:  # httpx raises it for an error that carries no request
        return None


def explain_http(exc: httpx.HTTPError | httpx.InvalidURL) -> CliError:
    """A request to the service that got no answer."""
    import httpx

    if (url := _server(exc)) is None:
        return CliError(f"The server URL is not usable: {exc}. Pass --url http://HOST:PORT.")
    fix = (
        "Start one with `practicegen serve`, or point --url (or PRACTICEGEN_URL) at a running one."
    )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return CliError(
            f"Cannot reach a practicegen server at {url} ({exc}). {fix}",
            exit_code=ExitCode.UNAVAILABLE,
        )
    if isinstance(exc, httpx.TimeoutException):
        return CliError(
            f"The server at {url} did not answer in time. Check that it is healthy "
            f"(`curl {url}/readyz`) and try again.",
            exit_code=ExitCode.UNAVAILABLE,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return CliError(f"{url} is not an http:// or https:// URL. Pass --url http://HOST:PORT.")
    return CliError(
        f"The connection to {url} failed: {exc or type(exc).__name__}. {fix}",
        exit_code=ExitCode.UNAVAILABLE,
    )


def report(exc: BaseException, *, show_traceback: bool) -> ExitCode:
    """Print `exc` as one message on stderr; return the exit code it calls for."""
    if isinstance(exc, KeyboardInterrupt):
        say("Interrupted.")
        return ExitCode.INTERRUPTED
    if "httpx" in sys.modules:  # only a command that loaded httpx can fail in it
        import httpx

        if isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
            exc = explain_http(exc)
    if isinstance(exc, CliError):
        say(exc.message)
        return exc.exit_code
    if show_traceback:
        err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
    else:
        say(  # the error's text may quote a URL or a key: shown redacted, as logs show it
            redact(f"Unexpected error: {type(exc).__name__}: {exc}. ")
            + "This is a bug in practicegen: please report it with what "
            "`practicegen --traceback ...` prints."
        )
    return ExitCode.INTERNAL
