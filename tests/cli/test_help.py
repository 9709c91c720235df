"""What `--help` and `--version` show: a placeholder only where an option takes a value, and
only the choices a command accepts."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

import practicegen
from practicegen.cli import app
from tests.cli.support import run_cli, run_cli_fresh


def command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from command_paths(sub, (*path, name))


def test_no_help_shows_a_placeholder_for_a_flag() -> None:
    root = typer.main.get_command(app)
    paths = list(command_paths(root))
    assert ("jobs", "show") in paths and ("bank", "export") in paths and len(paths) > 15
    for path in paths:
        shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (path, shown.output)
        assert "<bool>" not in shown.output, (path, shown.output)
    flags = CliRunner().invoke(app, ["jobs", "show", "--help"], env={"COLUMNS": "200"}).output
    assert "--follow " in flags and "--json " in flags and "--url " in flags and "URL" in flags


def test_keys_create_offers_only_the_roles_it_accepts(tmp_path: Path) -> None:
    shown = CliRunner().invoke(app, ["keys", "create", "--help"], env={"COLUMNS": "200"})
    assert "<server|admin>" in shown.output and "student" not in shown.output
    refused = run_cli(tmp_path, "keys", "create", "--role", "student")
    assert refused.returncode == 2 and "'student' is not one of" in refused.stderr
    assert "Traceback" not in refused.stderr and list(tmp_path.iterdir()) == []


def test_version(tmp_path: Path) -> None:
    result = run_cli_fresh(tmp_path, "--version")  # a new interpreter, as a shell starts it
    assert result.returncode == 0 and result.stdout == f"practicegen {version('practicegen')}\n"
    # one version: what the installed distribution says is what the service reports
    assert version("practicegen") == practicegen.__version__
