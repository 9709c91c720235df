"""The `practicegen` command line: an edge like HTTP that reads settings, calls services and
prints for people. Each module holds one group of commands; `errors` explains every failure."""

from practicegen.cli.main import app, main

__all__ = ["app", "main"]
