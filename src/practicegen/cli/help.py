"""Typer apps and commands whose help shows a placeholder only where an option takes a value.

Typer's rich help prints the value type of every option, so flags (`--follow`, `--help`)
read `<bool>` as if they took one. These classes give a flag an empty placeholder instead.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption


def _without_flag_placeholders(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_placeholders(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_placeholders(super().get_params(ctx))


def command_group(help_text: str, **options: Any) -> typer.Typer:
    """A group of commands; `practicegen NAME` alone shows its help."""
    return typer.Typer(
        cls=Group,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,  # errors are explained by `errors.report` instead
        **options,
    )
