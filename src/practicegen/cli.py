"""The `practicegen` command: run the service, prepare databases, manage keys; an edge like
HTTP that reads settings, calls services, and prints for people."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from practicegen import gc_tuning, tracing
from practicegen.app import create_app
from practicegen.auth import service as auth_service
from practicegen.auth.principal import DEFAULT_TENANT_ID, Role
from practicegen.bootstrap import Prepared, prepare, transaction
from practicegen.config import AuthMode, Settings
from practicegen.db import migrator
from practicegen.errors import InvalidRequest
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.keys import KeyReader
from practicegen.items.service import ImportReport, import_parsed, read_bank
from practicegen.jobs.cli import jobs_app
from practicegen.logs import configure_logging
from practicegen.tracing import TracingUnavailable
from practicegen.worker_node import run_worker

app = typer.Typer(help="practicegen: practice assignment and verified question generation.")
db_app = typer.Typer(help="Prepare and inspect the database.")
keys_app = typer.Typer(help="Manage API keys.")
bank_app = typer.Typer(help="Import and export the item bank.")
for name, commands in (("db", db_app), ("keys", keys_app), ("bank", bank_app), ("jobs", jobs_app)):
    app.add_typer(commands, name=name)
out = Console()
err = Console(stderr=True)
log = structlog.get_logger()


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err.print(f"[red]Invalid settings:[/red]\n{exc}")
        raise typer.Exit(2) from exc


@app.callback()
def _logging() -> None:
    """Every command logs JSON to stderr, so stdout carries only what a command prints."""
    configure_logging(level="WARNING")


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


def observe(settings: Settings) -> None:
    """Logs as the settings say, and tracing when they name an OTLP endpoint."""
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    try:
        tracing.start(settings)
    except TracingUnavailable as exc:
        err.print(f"[red]{escape(exc.message)}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc


def announce(report: Prepared) -> None:
    """What preparing the database did, as log events (so a JSON log stays one object a
    line), and a new admin key alone on stdout; on a terminal, with a line saying what it is."""
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the API (and, on the embedded default, the job worker in the same process)."""
    settings = load_settings()
    observe(settings)
    if settings.auth is AuthMode.OFF and not is_loopback(host):
        err.print(
            f"[red]PRACTICEGEN_AUTH=off is refused on the non-loopback address {host}.[/red] "
            "Turn auth on, or listen on 127.0.0.1."
        )
        raise typer.Exit(2)
    announce(asyncio.run(prepare(settings)))
    service = create_app(settings)
    gc_tuning.settle()
    uvicorn.run(service, host=host, port=port, log_config=None, access_log=False, lifespan="on")


@app.command()
def worker(
    drain_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            help="On SIGTERM or SIGINT, how long running jobs may take to finish before they "
            "are handed back to the queue for another worker.",
        ),
    ] = 30.0,
) -> None:
    """Run a job worker (distributed mode, on PostgreSQL) until SIGTERM or SIGINT."""
    settings = load_settings()
    observe(settings)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            status = runner.run(run_worker(settings, drain_s=drain_seconds))
    except InvalidRequest as exc:
        err.print(f"[red]{exc.message}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(status)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database lacks (safe to run from several nodes at once)."""
    settings = load_settings()
    applied = asyncio.run(migrator.upgrade(settings.database_url))
    out.print(f"Applied: {', '.join(applied)}" if applied else "Already up to date.")


@db_app.command("status")
def db_status() -> None:
    """List migrations and whether each is applied; exit 1 if any is pending."""
    settings = load_settings()
    rows = asyncio.run(migrator.status(settings.database_url))
    table = Table("version", "file", "applied")
    for row in rows:
        table.add_row(row.version, row.name, "yes" if row.applied else "[red]no[/red]")
    out.print(table)
    if not all(r.applied for r in rows):
        raise typer.Exit(1)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    role: Annotated[Role, typer.Option(help="admin or server.")] = Role.SERVER,
    new_tenant: Annotated[
        str | None, typer.Option(help="Create a new tenant with this name and key it.")
    ] = None,
) -> None:
    """Create an API key and print it once."""
    if role is Role.STUDENT:
        err.print("Student tokens are minted through POST /api/v1/tokens.")
        raise typer.Exit(2)
    settings = load_settings()
    secret = asyncio.run(_create_key(settings, name=name, role=role, new_tenant=new_tenant))
    out.print(secret, soft_wrap=True, highlight=False)


async def _create_key(settings: Settings, *, name: str, role: Role, new_tenant: str | None) -> str:
    async with transaction(settings) as session:
        if new_tenant is not None:
            tenant_id = (await auth_service.create_tenant(session, name=new_tenant)).id
        else:
            tenant_id = (await auth_service.ensure_default_tenant(session)).id
        issued = await auth_service.create_key(session, tenant_id=tenant_id, name=name, role=role)
        return issued.secret


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant_id: Annotated[
        uuid.UUID | None, typer.Option(help="Tenant to load into (default: the default tenant).")
    ] = None,
) -> None:
    """Load a practicegen-bank JSON file; print what was imported and which rows were rejected."""
    settings = load_settings()
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print(f"[red]{file} is not JSON:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        report = asyncio.run(_import(settings, document, tenant_id or DEFAULT_TENANT_ID))
    except InvalidRequest as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    out.print(
        f"Imported {report.imported}, skipped {report.duplicates} already in the bank, "
        f"rejected {len(report.rejected)}."
    )
    for row in report.rejected:
        out.print(f"  row {row.row}: {'; '.join(row.reasons)}")


async def _import(settings: Settings, document: object, tenant_id: uuid.UUID) -> ImportReport:
    pool = SympyPool(1)
    try:  # keys are read before the database is touched: no lock is held meanwhile
        parsed = await read_bank(document, KeyReader(pool, timeout_s=settings.generator_timeout_s))
    finally:
        await pool.aclose()
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Importing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async with transaction(settings) as session:
            if tenant_id == DEFAULT_TENANT_ID:
                await auth_service.ensure_default_tenant(session)
            return await import_parsed(
                session, tenant_id=tenant_id, parsed=parsed, progress=advance
            )


def main() -> None:
    app()
