"""The edge kit (`practicegen.api`) is what every domain imports, so it imports no domain:
only the settings, the database layer, the error hierarchy and the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import practicegen

ALLOWED = {"api", "clock", "config", "db", "errors"}


def imported_packages(package: str) -> set[str]:
    """The `practicegen` subpackages and top-level modules that `package`'s modules import."""
    found: set[str] = set()
    for path in (Path(practicegen.__file__).parent / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found |= {n.split(".")[1] for n in names if n.startswith("practicegen.")}
    return found


def test_the_edge_kit_imports_no_domain() -> None:
    assert imported_packages("api") <= ALLOWED


def test_auth_does_not_import_the_domains_it_guards() -> None:
    assert imported_packages("auth") <= ALLOWED | {"auth"}
