"""The two migration routes give one schema, on both backends, and match the mapped models."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from practicegen.db import migrator
from practicegen.db.models import Base
from tests.support import postgres

POSTGRES_VERSIONS = [m.version for m in migrator.available_migrations(database_url="postgresql://")]
SQLITE_VERSIONS = [m.version for m in migrator.available_migrations(database_url="sqlite://")]
Columns = dict[str, dict[str, tuple[str, bool]]]  # table -> column -> (type, nullable)


def postgres_columns(name: str) -> Columns:
    with psycopg.connect(postgres.conninfo(name)) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable = 'YES' "
            "FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchall()
    schema: Columns = {}
    for table, column, data_type, nullable in rows:
        schema.setdefault(table, {})[column] = (data_type, nullable)
    return schema


def postgres_indexes(name: str) -> set[tuple[str, str]]:
    with psycopg.connect(postgres.conninfo(name)) as conn:
        rows = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ).fetchall()
    return {(t, d) for t, d in rows}


async def sqlite_columns(path: Path) -> Columns:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect() as conn:

        def read(sync_conn: object) -> Columns:
            insp = inspect(sync_conn)
            return {
                table: {
                    c["name"]: (str(c["type"]), bool(c["nullable"]))
                    for c in insp.get_columns(table)
                }
                for table in insp.get_table_names()
            }

        schema = await conn.run_sync(read)
    await engine.dispose()
    return schema


@pytest.fixture
def fresh_databases(postgres_clones: postgres.Clones) -> Iterator[list[str]]:
    """Empty databases a test makes; dropped on the clones' thread, as a clone is."""
    made: list[str] = []
    yield made
    for name in made:
        postgres_clones.drop(name)


def fresh(made: list[str]) -> str:
    name = postgres.create_database(prefix="pgschema")
    made.append(name)
    return name


@pytest.mark.postgres
async def test_psql_route_equals_db_upgrade(fresh_databases: list[str]) -> None:
    psql = shutil.which("psql")
    assert psql is not None, "the psql client is needed to test the guide's migration route"
    by_hand, by_runner = fresh(fresh_databases), fresh(fresh_databases)
    for migration in migrator.available_migrations(database_url="postgresql://"):
        subprocess.run(  # noqa: ASYNC221 (psql by hand is the route under test)
            [
                psql,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-d",
                postgres.conninfo(by_hand),
                "-f",
                str(Path("migrations") / migration.path.name),
            ],
            check=True,
            capture_output=True,
        )
    assert await migrator.upgrade(postgres.database_url(by_runner)) == POSTGRES_VERSIONS
    assert postgres_columns(by_hand) == postgres_columns(by_runner)
    assert postgres_indexes(by_hand) == postgres_indexes(by_runner)
    # the hand-migrated database is current: db upgrade finds nothing to do
    assert await migrator.upgrade(postgres.database_url(by_hand)) == []


@pytest.mark.postgres
async def test_upgrade_twice_changes_nothing(fresh_databases: list[str]) -> None:
    name = fresh(fresh_databases)
    url = postgres.database_url(name)
    assert await migrator.upgrade(url) == POSTGRES_VERSIONS
    before = postgres_columns(name), postgres_indexes(name)
    assert await migrator.upgrade(url) == []
    assert (postgres_columns(name), postgres_indexes(name)) == before
    assert all(s.applied for s in await migrator.status(url))


@pytest.mark.postgres
async def test_concurrent_upgrades_apply_each_file_once(fresh_databases: list[str]) -> None:
    name = fresh(fresh_databases)
    url = postgres.database_url(name)
    results = await asyncio.gather(*(migrator.upgrade(url) for _ in range(4)))
    assert sorted(v for r in results for v in r) == POSTGRES_VERSIONS


@pytest.mark.postgres
async def test_sqlite_route_gives_the_same_tables_and_columns(
    tmp_path: Path, postgres_template: str
) -> None:
    path = tmp_path / "schema.db"
    url = f"sqlite+aiosqlite:///{path}"
    assert await migrator.upgrade(url) == SQLITE_VERSIONS
    assert await migrator.upgrade(url) == []
    lite, pg = await sqlite_columns(path), postgres_columns(postgres_template)
    # the job queue's own tables exist only on PostgreSQL (SQLite queues in memory)
    pg = {table: columns for table, columns in pg.items() if not table.startswith("pgqueuer")}
    assert set(lite) == set(pg)
    for table in pg:
        assert {c: n for c, (_, n) in lite[table].items()} == {
            c: n for c, (_, n) in pg[table].items()
        }, table


async def test_models_name_every_migrated_column(tmp_path: Path) -> None:
    path = tmp_path / "models.db"
    await migrator.upgrade(f"sqlite+aiosqlite:///{path}")
    migrated = await sqlite_columns(path)
    mapped = {t.name: set(t.columns.keys()) for t in Base.metadata.sorted_tables}
    # the ledger, and the counts that triggers keep and only the job stores' own SQL reads
    unmapped = ("schema_migrations", "job_counts")
    assert {t: set(c) for t, c in migrated.items() if t not in unmapped} == mapped


def test_sqlite_type_mapping() -> None:
    sql = "BEGIN;\nCREATE TABLE t (a UUID, b JSONB, c TIMESTAMPTZ, d DOUBLE PRECISION, e BIGINT);"
    assert migrator.sqlite_dialect(sql) == (
        "BEGIN IMMEDIATE;\nCREATE TABLE t (a TEXT, b TEXT, c TEXT, d REAL, e INTEGER);"
    )


async def test_concurrent_sqlite_upgrades_all_succeed(tmp_path: Path) -> None:
    """SQLite cannot repeat `ADD COLUMN`: a runner that read the ledger before another applied
    such a file skips it instead of failing the start."""
    for attempt in range(5):  # each round a fresh file, so the runners race from the start
        url = f"sqlite+aiosqlite:///{tmp_path / f'race-{attempt}.db'}"
        results = await asyncio.gather(*(migrator.upgrade(url) for _ in range(4)))
        # every runner succeeds; between them they applied every file (they take turns file by
        # file, and a file another runner applied since is skipped or harmlessly repeated)
        assert set().union(*results) == set(SQLITE_VERSIONS)
        assert all(s.applied for s in await migrator.status(url))
    columns = await sqlite_columns(tmp_path / "race-0.db")
    assert "traceparent" in columns["jobs"]


def test_a_file_for_one_backend_is_skipped_on_the_other(tmp_path: Path) -> None:
    files = {
        "001_both.sql": "BEGIN;\nCOMMIT;\n",
        "002_postgres.sql": "-- dialect: postgresql\nBEGIN;\n",
        "003_sqlite.sql": "-- dialect: sqlite\nBEGIN;\n",
        "004_later_line.sql": "BEGIN;\n-- dialect: sqlite\n",  # only the first line names one
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    def versions(url: str | None) -> list[str]:
        return [m.version for m in migrator.available_migrations(tmp_path, database_url=url)]

    assert versions("postgresql+psycopg://localhost/x") == ["001", "002", "004"]
    assert versions("sqlite+aiosqlite:///x.db") == ["001", "003", "004"]
    assert versions(None) == ["001", "002", "003", "004"]  # the directory as it is
    (tmp_path / "005_typo.sql").write_text("-- dialect: sqlit\n")
    with pytest.raises(ValueError, match="005_typo"):
        versions(None)


def test_each_backend_counts_jobs_in_flight_by_its_own_file() -> None:
    dialects = {m.version: m.dialect for m in migrator.available_migrations()}
    assert dialects["008"] == "postgresql" and dialects["021"] == "sqlite"
    assert "021" not in POSTGRES_VERSIONS and "008" not in SQLITE_VERSIONS
