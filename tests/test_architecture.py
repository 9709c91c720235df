"""The shape of the source tree: imports between packages run one way, and nothing grows big.

A ring between packages means no package can be read or changed without the others. Three
layerings are held besides: the edge kit (`api/`) and `auth/` import no domain, since every
domain imports them; the job system knows no kind of job, so a new one needs no change inside
`jobs/`; and the practice packages run ports <- grading <- items <- generation <- practice.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "practicegen"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> set[str]:
    """Absolute names of the practicegen modules `path` imports (relative imports resolved)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("practicegen.")}


def _package(module: str) -> str:
    """The top-level part of practicegen a module belongs to (a subpackage or a root module)."""
    return module.split(".")[1]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        source = _package(_module_name(path)) if path.parent != SRC else path.stem
        for target in _imported(path):
            name = _package(target)
            is_part = (SRC / name).is_dir() or (SRC / f"{name}.py").exists()
            if is_part and name != source:
                graph[source].add(name)
    return graph


def rings(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one package (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_imports_another_that_imports_it_back() -> None:
    assert rings(package_graph()) == []


def _imports_of(package: str) -> dict[str, set[str]]:
    """For each module of `package` (a subpackage or a root module), the parts it imports."""
    paths = (
        sorted((SRC / package).rglob("*.py"))
        if (SRC / package).is_dir()
        else [SRC / f"{package}.py"]
    )
    return {str(p.relative_to(SRC)): {_package(name) for name in _imported(p)} for p in paths}


EDGE_KIT = {"api", "clock", "config", "db", "errors"}
JOB_TYPE_OWNERS = {"practice", "students", "items", "generation", "webhooks", "app", "worker_node"}
PRACTICE_LAYERS = ["ports", "grading", "items", "generation", "practice"]


@pytest.mark.parametrize(("package", "allowed"), [("api", EDGE_KIT), ("auth", EDGE_KIT | {"auth"})])
def test_the_edge_kit_and_auth_import_no_domain(package: str, allowed: set[str]) -> None:
    beyond = {m: names - allowed for m, names in _imports_of(package).items() if names - allowed}
    assert beyond == {}


def test_the_job_system_knows_no_kind_of_job() -> None:
    owners = {m: names & JOB_TYPE_OWNERS for m, names in _imports_of("jobs").items()}
    assert {m: names for m, names in owners.items() if names} == {}


def test_the_practice_packages_import_only_the_layers_below() -> None:
    upward = {
        module: names & set(PRACTICE_LAYERS[rank + 1 :])
        for rank, layer in enumerate(PRACTICE_LAYERS)
        for module, names in _imports_of(layer).items()
    }
    assert {m: names for m, names in upward.items() if names} == {}


def test_no_module_is_over_400_lines() -> None:
    sizes = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_no_function_is_over_50_lines() -> None:
    long: dict[str, int] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = length
    assert long == {}


def test_the_ring_finder_finds_a_ring() -> None:
    assert rings({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
