"""The fork server every process pool of a node forks its processes from, and what it preloads.

multiprocessing keeps one fork server per process, and the server imports its preload list
once, when it starts; every process forked from it then begins with those modules loaded
instead of importing sympy itself. The list is the server's, not a pool's: each pool adds what
its processes run when it is built, before the server starts, so no pool's list replaces
another's. This is multiprocessing's own mechanism (`set_forkserver_preload`), not a
replacement of it.
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
