"""A failure nobody foresaw still ends in one message and exit 70; `--traceback` shows the
traceback to report."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from practicegen.db import migrator
from tests.cli.support import assert_explained, run_cli, run_cli_fresh


def test_an_unforeseen_database_refusal_is_named_and_its_traceback_offered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "practicegen.db"
    asyncio.run(migrator.upgrade(f"sqlite+aiosqlite:///{path}"))
    with sqlite3.connect(path) as conn:  # a rule of someone else's, unknown to practicegen
        conn.execute(
            "CREATE TRIGGER no_new_keys BEFORE INSERT ON api_keys "
            "BEGIN SELECT RAISE(ABORT, 'keys are frozen [until=monday]'); END"
        )
    result = run_cli_fresh(tmp_path, "keys", "create")  # what a real terminal would get
    assert_explained(
        result,
        70,
        "Unexpected error: IntegrityError:",
        "keys are frozen [until=monday]",
        "`practicegen --traceback ...`",
    )
    traced = run_cli(tmp_path, "--traceback", "keys", "create")
    assert traced.returncode == 70 and traced.stdout == ""
    assert "Traceback (most recent call last)" in traced.stderr
    assert "keys are frozen [until=monday]" in traced.stderr
