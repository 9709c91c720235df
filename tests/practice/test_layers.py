"""The practice packages import one way: ports <- grading <- items <- generation <- practice."""

from __future__ import annotations

import ast
from pathlib import Path

import practicegen

ORDER = ["ports", "grading", "items", "generation", "practice"]
ROOT = Path(practicegen.__file__).parent


def _imported(path: Path) -> set[str]:
    """The `practicegen` subpackages (or top-level modules) a module imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("practicegen.") and "." in n}


def _modules(layer: str) -> list[Path]:
    package = ROOT / layer
    return sorted(package.rglob("*.py")) if package.is_dir() else [ROOT / f"{layer}.py"]


def test_each_layer_imports_only_the_layers_below_it() -> None:
    upward = [
        f"{path.relative_to(ROOT)} imports {above}"
        for rank, layer in enumerate(ORDER)
        for path in _modules(layer)
        for above in sorted(_imported(path) & set(ORDER[rank + 1 :]))
    ]
    assert upward == []
