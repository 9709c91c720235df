"""`practicegen db`: create or bring the tables up to date, and show which migrations a
database has. `db status` only reads: it names the database it read and never creates one."""

from __future__ import annotations

import typer
from rich.table import Table

from practicegen.cli import database
from practicegen.cli.console import out, say
from practicegen.cli.errors import ExitCode
from practicegen.cli.help import Command, command_group
from practicegen.cli.settings import load_settings

db_app = command_group("Prepare and inspect the database.")


@db_app.command("upgrade", cls=Command)
def upgrade() -> None:
    """Apply every migration the database lacks, creating a SQLite file if there is none
    (safe to run from several nodes at once)."""
    from practicegen.db import migrator

    settings = load_settings()
    say(f"Database: {database.describe(settings)}")
    database.require_folder(settings)
    applied = database.run(
        settings,
        migrator.upgrade(settings.database_url, connect_timeout_s=settings.db_connect_timeout_s),
    )
    out.print(f"Applied: {', '.join(applied)}" if applied else "Already up to date.")


@db_app.command("status", cls=Command)
def status() -> None:
    """List the migrations and whether each is applied; exit 1 if any is pending."""
    settings = load_settings()
    say(f"Database: {database.describe(settings)}")
    database.require_existing(settings)
    rows = database.run(settings, database.migrations(settings))
    table = Table("version", "file", "applied")
    for row in rows:
        table.add_row(row.version, row.name, "yes" if row.applied else "[red]no[/red]")
    out.print(table)
    pending = [row.version for row in rows if not row.applied]
    if pending:
        say(f"{len(pending)} pending: run `practicegen db upgrade` to apply them.")
        raise typer.Exit(ExitCode.NO)
