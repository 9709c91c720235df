"""Fixtures shared by the whole suite.

`settings` is parametrised over both backends, so every test that takes it (directly or via
`server`/`client`) runs once on SQLite and once on PostgreSQL, each time on a fresh database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from tests.support import postgres
from tests.support.server import RunningServer, running_server

ADMIN_KEY = "pgen_sk_test_admin_key_0123456789abcdef"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("postgres") for item in items):
        return
    problem = postgres.reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"CI needs PostgreSQL at {postgres.admin_url()}: {problem}")
    skip = pytest.mark.skip(reason=f"PostgreSQL unreachable (CI would fail): {problem}")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated database that per-test databases are cloned from."""
    import asyncio

    name = postgres.create_database(prefix="pgtemplate")
    try:
        asyncio.run(migrator.upgrade(postgres.database_url(name)))
        yield name
    finally:
        postgres.drop_database(name)


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    template: str = request.getfixturevalue("postgres_template")
    name = postgres.create_database(template=template)
    try:
        yield postgres.database_url(name)
    finally:
        postgres.drop_database(name)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "api_key": ADMIN_KEY,
        "log_json": True,
        "log_level": "WARNING",
        "demo_bank": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_database")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"


@pytest.fixture
async def settings(database_url: str) -> Settings:
    settings = make_settings(database_url)
    await prepare(settings)
    return settings


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[SessionMaker]:
    """Sessions on the test's prepared database, without a server."""
    engine = create_engine(settings)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as http:
        yield http


@pytest.fixture
async def anonymous(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        yield http
