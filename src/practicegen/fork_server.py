"""The fork server every process pool of a node forks its processes from, and what it preloads.

Processes forked from the server begin with its preload list imported instead of importing
sympy themselves; each pool adds its modules to the one shared list before the server starts,
so no pool's list replaces another's.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

_preload: list[str] = []


def forkserver_context(*modules: str) -> ForkServerContext:
    """The fork server's context, with `modules` added to what it imports when it starts."""
    _preload.extend(m for m in modules if m not in _preload)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_preload))
    return context
