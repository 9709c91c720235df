"""`practicegen serve` and `practicegen worker`: the long-running commands.

`serve` takes its port before it writes anything: on a busy port it stops before it migrates,
loads the demo bank or prints a first key. The service's modules load inside the commands,
not for `--help`.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import signal
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from practicegen.cli import database
from practicegen.cli.console import out
from practicegen.cli.errors import CliError, ExitCode
from practicegen.cli.help import Command
from practicegen.cli.settings import load_settings
from practicegen.errors import InvalidRequest

if TYPE_CHECKING:
    import asyncio

    from practicegen.bootstrap import Prepared
    from practicegen.config import Settings

BACKLOG = 2048  # uvicorn's own default


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed, as uvicorn picks for `serve`; else asyncio's default loop.
    A busy worker spends much of its time in the loop itself, which uvloop runs in C."""
    try:
        import uvloop
    except ImportError:  # not installed where uvicorn[standard] leaves it out (Windows)
        return None
    return uvloop.new_event_loop


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:  # an address is its own only answer; a name that does not resolve is not loopback
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, bound as uvicorn binds one, or a `CliError` saying why
    it cannot be. Listening at once keeps the port: a second `serve` is refused meanwhile."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise _unusable_address(exc, host, port) from exc
    sock.set_inheritable(True)
    return sock


def _unusable_address(exc: OSError, host: str, port: int) -> CliError:
    if isinstance(exc, socket.gaierror):
        return CliError(f"Cannot listen on {host}: no such host. Pass --host 127.0.0.1 or an IP.")
    if exc.errno == errno.EADDRINUSE:
        return CliError(
            f"Port {port} on {host} is in use: another `practicegen serve` or another program "
            "listens there. Stop it, or pick a free port with --port.",
            exit_code=ExitCode.UNAVAILABLE,
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return CliError(
            f"{host} is not an address of this machine. Pass --host 127.0.0.1, 0.0.0.0 or one "
            "of its own addresses."
        )
    if exc.errno == errno.EACCES:
        return CliError(f"Port {port} needs privileges here. Pick --port 1024 or above.")
    return CliError(
        f"Cannot listen on {host}:{port}: {exc.strerror or exc}.", exit_code=ExitCode.UNAVAILABLE
    )


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends `serve` as Ctrl-C does. uvicorn stops gracefully on either, puts back the
    handlers it found, and raises the signal again for them: to Python's default for SIGTERM
    that is death by the signal (exit 143) after the clean stop; to this, the same clean
    `KeyboardInterrupt` as Ctrl-C."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def observe(settings: Settings) -> None:
    """Logs as the settings say, and tracing when they name an OTLP endpoint."""
    from practicegen import tracing
    from practicegen.logs import configure_logging

    configure_logging(level=settings.log_level, log_format=settings.log_format)
    try:
        tracing.start(settings)
    except tracing.TracingUnavailable as exc:
        raise CliError(exc.message) from exc


def _announce(report: Prepared) -> None:
    """What preparing the database did, as log events (so a JSON log stays one object a
    line), and a new admin key alone on stdout; on a terminal, with a line saying what it is."""
    import structlog

    log = structlog.get_logger()
    if report.migrations_applied:
        log.info("db.migrated", applied=report.migrations_applied)
    if report.demo_items_loaded:
        log.info("bank.demo_loaded", items=report.demo_items_loaded)
    if report.new_admin_key is None:
        return
    log.info("auth.admin_key_created", shown="once, on stdout")
    if out.is_terminal:
        out.print("\nThe default tenant's admin API key, shown only this once:", style="bold")
    out.print(report.new_admin_key, soft_wrap=True, highlight=False, markup=False)


def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Run the API (and, on the embedded default, the job worker in the same process)."""
    from practicegen.config import AuthMode

    settings = load_settings()
    observe(settings)
    if settings.auth is AuthMode.OFF and not is_loopback(host):
        raise CliError(
            f"PRACTICEGEN_AUTH=off is refused on the non-loopback address {host}. "
            "Turn auth on, or listen on 127.0.0.1."
        )
    database.require_folder(settings)
    sock = listening_socket(host, port)
    try:
        # the service loads once the command is known to be able to run it
        from practicegen import gc_tuning

        gc_tuning.starting()
        import structlog
        import uvicorn

        from practicegen.app import create_app
        from practicegen.bootstrap import prepare

        _announce(database.run(settings, prepare(settings)))
        config = uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_keep_alive=int(settings.http_keep_alive_s),
        )
        gc_tuning.settle()
        structlog.get_logger().info("serve.starting", url=f"http://{host}:{port}", stop="Ctrl-C")
        # uvicorn stops gracefully on Ctrl-C, then raises it again: that end is a clean one
        with contextlib.suppress(KeyboardInterrupt), sigterm_as_interrupt():
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def worker(
    drain_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="On SIGTERM or SIGINT, how long running jobs may take to finish before they "
            "are handed back to the queue for another worker.",
        ),
    ] = 30.0,
) -> None:
    """Run a job worker (distributed mode, on PostgreSQL) until SIGTERM or SIGINT."""
    import asyncio

    from practicegen import gc_tuning

    gc_tuning.starting()
    from practicegen.config import DatabaseKind
    from practicegen.worker_node import run_worker

    settings = load_settings()
    observe(settings)
    if settings.database_kind is DatabaseKind.POSTGRES:  # on SQLite, run_worker refuses
        database.run(settings, database.reachable(settings, need_schema=not settings.auto_migrate))
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            status = runner.run(run_worker(settings, drain_s=drain_seconds))
    except InvalidRequest as exc:
        raise CliError(exc.message) from exc
    raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(serve)
    app.command(cls=Command)(worker)
