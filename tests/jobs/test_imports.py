"""The job system is generic: nothing in `jobs/` imports a package that owns job types."""

from __future__ import annotations

import ast
from pathlib import Path

import practicegen.jobs

OWNERS = {"practice", "students", "items", "generation", "webhooks", "app", "worker_node"}


def imported(path: Path) -> set[str]:
    """The `practicegen` subpackages and modules `path` imports, by their first name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        names |= {m.split(".")[1] for m in modules if m.startswith("practicegen.") and "." in m}
    return names


def test_jobs_imports_no_package_that_owns_job_types() -> None:
    package = Path(practicegen.jobs.__file__).parent
    found = {path.name: imported(path) & OWNERS for path in sorted(package.glob("*.py"))}
    assert {name: owners for name, owners in found.items() if owners} == {}
