"""A throwaway PostgreSQL server of a test's own, which the test may restart or stop at will.

Tests of surviving a database restart cannot restart the shared server other tests use, so
this one builds a cluster with the machine's `initdb` in a temporary directory, on a free
port, and removes it afterwards. PostgreSQL refuses to run as root, so under root the
commands run as the `postgres` system user that the server packages create.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not versions:
        raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    return versions[-1]


@dataclass(frozen=True)
class PrivatePostgres:
    data: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        log = str(self.data.parent / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop (dropping every connection) and start again on the same port."""
        self.stop()
        self.start()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # not under pytest's tmp_path: its parents are private to root, closed to `postgres`
    home = Path(tempfile.mkdtemp(prefix="practicegen-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, user="postgres")
    server = PrivatePostgres(home / "data", free_port(), _bin_dir())
    server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres")
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop("immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)
