"""The `practicegen` command: its groups, `--version`, and the one place every failure is
explained (`errors.report`). Each command loads the parts of the service it uses when it
runs, so `--version`, `--help` and the commands that only read a database or speak HTTP start fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from practicegen import __version__
from practicegen.cli import serve
from practicegen.cli.bank import bank_app
from practicegen.cli.console import out
from practicegen.cli.errors import report
from practicegen.cli.help import command_group
from practicegen.cli.jobs import jobs_app
from practicegen.cli.keys import keys_app
from practicegen.cli.schema import db_app

app = command_group("practicegen: practice assignment and verified question generation.")
serve.register(app)
for name, commands in (("db", db_app), ("keys", keys_app), ("bank", bank_app), ("jobs", jobs_app)):
    app.add_typer(commands, name=name)


@dataclass(slots=True)
class Run:
    """What the root options ask of this run, read by `main` after a command fails."""

    show_traceback: bool = False


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"practicegen {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    show_traceback: Annotated[
        bool, typer.Option("--traceback", help="On an unexpected error, print its traceback.")
    ] = False,
) -> None:
    """Practice assignment and verified question generation. Results go to stdout; messages,
    progress and errors to stderr."""
    from practicegen.logs import configure_logging

    if isinstance(ctx.obj, Run):
        ctx.obj.show_traceback = show_traceback
    configure_logging(level="WARNING")  # commands that log more configure it again


def main() -> None:
    run = Run()
    try:
        app(prog_name="practicegen", obj=run)
    except Exception as exc:  # every failure ends here, explained: never a bare traceback
        raise SystemExit(report(exc, show_traceback=run.show_traceback)) from None
    except KeyboardInterrupt as exc:
        raise SystemExit(report(exc, show_traceback=False)) from None
