"""A fresh `practicegen serve` starts its grading and generator processes by itself, while it
already answers, so the first answer a student sends is not the one that waits for them."""

from __future__ import annotations

import contextlib
from pathlib import Path

from tests.guide.serve import practicegen_serve
from tests.support.processes import wait_until


def pool_processes(group: int) -> int:
    """Processes of process group `group` that the fork server started (or it itself)."""
    count = 0
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == group and b"forkserver" in (proc / "cmdline").read_bytes():
                count += 1
    return count


async def test_serve_starts_its_pools_before_any_request_needs_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"
    workers = {"PRACTICEGEN_GRADER_WORKERS": "2", "PRACTICEGEN_GENERATOR_WORKERS": "2"}
    async with practicegen_serve(url, tmp_path, **workers) as serve:
        # nothing but /readyz has been asked; the fork server, 2 graders, 2 sympy processes
        async def started() -> bool:
            return pool_processes(serve.process.pid) >= 5

        await wait_until(started, limit_s=60, what="the pools' processes", every=0.2)
