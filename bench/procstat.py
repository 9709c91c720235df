"""What the benchmarks read of other processes from /proc: CPU time and memory.

The benchmarks run the service as processes of their own, so what a process spent is read
from the kernel's account of it, not from inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (the process's state is [0])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(
    pid: int, fields: list[str] | None = None, *, ended_children: bool = False
) -> float:
    """User plus system CPU time the process has used so far (from `fields`, its stat, if
    given); with `ended_children`, also that of its children that have ended (and been waited
    for)."""
    fields = fields or _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (a fork server and its sympy processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            children.setdefault(int(_stat(int(stat.parent.name))[1]), []).append(
                int(stat.parent.name)
            )
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def family_cpu_seconds(pid: int) -> float:
    """CPU time of `pid` and of its running descendants."""
    total = cpu_seconds(pid)
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(child)
    return total


def database_server_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL: its running processes, and through
    the postmaster's account of its ended children, the backends of closed connections."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            if comm.read_text().strip() == "postgres":
                pid = int(comm.parent.name)
                fields = _stat(pid)
                postmaster = Path(f"/proc/{fields[1]}/comm").read_text().strip() != "postgres"
                total += cpu_seconds(pid, fields, ended_children=postmaster)
    return total


def child_pid(marker: bytes) -> int:
    """The process this one started whose command line holds `marker` (NUL between words)."""
    for task in Path("/proc/self/task").iterdir():
        for child in (task / "children").read_text().split():
            if marker in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    raise RuntimeError(f"no child process with {marker!r} found")


def memory_mb(path: str, field: str) -> float:
    """A `field:` line's kB from /proc/PID/status or smaps_rollup, in MB."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_memory_mb(pid: int, stop: asyncio.Event) -> asyncio.Task[tuple[float, float]]:
    """Peak RSS of `pid`, and peak PSS of `pid` with its descendants (their proportional set
    sizes: a page the fork server and its children share is split between them, not counted
    in each), sampled until `stop` is set."""

    family: list[int] = []

    def proportional() -> float:
        total = memory_mb(f"/proc/{pid}/smaps_rollup", "Pss")
        for child in family:
            with contextlib.suppress(OSError):
                total += memory_mb(f"/proc/{child}/smaps_rollup", "Pss")
        return total

    async def sample() -> tuple[float, float]:
        """RSS every 0.2 s; the PSS sum (the kernel walks every page for it) every second,
        and the process tree (a scan of /proc) every 5 s: the pools stay put."""
        own, total = 0.0, 0.0
        samples = 0
        while not stop.is_set():
            try:
                if samples % 25 == 0:
                    family[:] = await asyncio.to_thread(descendants, pid)
                if samples % 5 == 0:
                    total = max(total, await asyncio.to_thread(proportional))
                rss = await asyncio.to_thread(memory_mb, f"/proc/{pid}/status", "VmRSS")
            except FileNotFoundError:
                break
            own = max(own, rss)
            samples += 1
            await asyncio.sleep(0.2)
        return own, total

    return asyncio.ensure_future(sample())


@contextlib.asynccontextmanager
async def sampled(pid: int, path: str | None) -> AsyncIterator[None]:
    """While the block runs, py-spy samples `pid`'s stacks into `path` (collapsed stacks, one
    line per distinct stack and its count); nothing if `path` is None."""
    if path is None:
        yield
        return
    spy = str(Path(sys.executable).with_name("py-spy"))
    args = ("record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format", "raw")
    process = await asyncio.create_subprocess_exec(
        spy, *args, "--output", path, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()
