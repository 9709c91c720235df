"""The SQLite file holds signing secrets and key hashes: it and its -wal/-shm are owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from practicegen.bootstrap import prepare
from practicegen.db.engine import create_engine
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import running_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_served_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    database = tmp_path / "practicegen.db"
    settings = make_settings(f"sqlite+aiosqlite:///{database}")
    previous = os.umask(0o022)  # what a default shell gives: files 0644 unless told otherwise
    try:
        await prepare(settings)
        async with (
            running_server(settings) as server,
            httpx.AsyncClient(
                base_url=server.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            ) as http,
        ):
            created = await http.post("/api/v1/students", json={"display_name": "Sam"})
            assert created.status_code == 201
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        os.umask(previous)


def test_db_upgrade_creates_the_file_0600(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env["PRACTICEGEN_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    subprocess.run(
        ["/bin/sh", "-c", f"umask 022 && exec {sys.executable} -m practicegen db upgrade"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert mode(database) == 0o600


def test_an_existing_world_readable_file_is_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch()
    database.chmod(0o644)
    Path(f"{database}-wal").touch()
    Path(f"{database}-wal").chmod(0o644)
    settings = make_settings(f"sqlite+aiosqlite:///{database}")
    create_engine(settings).sync_engine.dispose()
    assert mode(database) == 0o600 and mode(Path(f"{database}-wal")) == 0o600
