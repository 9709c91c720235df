"""Fixtures shared by the whole suite.

`settings` is parametrised over both backends, so every test that takes it (directly or via
`app`/`server`/`client`) runs once on SQLite and once on PostgreSQL, each time on a fresh
database copied from one prepared once. `client` and `anonymous` talk to the test's node in
process; `server` puts a real server in front of the same node for what needs a socket.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from xdist.scheduler import LoadScopeScheduling

from practicegen import gc_tuning
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from tests.support import postgres
from tests.support.server import (
    RunningServer,
    StartedApp,
    in_process_client,
    serving,
    started_app,
)

ADMIN_KEY = "pgen_sk_test_admin_key_0123456789abcdef"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# In process, logs go through structlog's default chain (the command line configures its own),
# whose console renderer draws each traceback with rich, every frame's locals included: a test
# whose worker logs a failure at each interval spent a minute drawing them. The default chain
# with plain text tracebacks, as the service renders them; no level filter, so `capture_logs`
# still sees every event.
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        ),
    ]
)

LONGEST_FIRST = (
    "tests/js/test_js_client.py",
    "tests/test_docs.py",
    "tests/api/test_fuzz.py",
    "tests/api/test_follower_burst.py",
    "tests/generation/test_llm.py",
    "tests/webhooks/test_lanes.py",
    "tests/grading/test_sympy_pool.py",
    "tests/test_cli.py",
    "tests/jobs/test_postgres_restart.py",
    "tests/cli/test_lean_imports.py",
    "tests/client/test_distribution.py",
    "tests/practice/test_answer_flood.py",
    "tests/test_embedded_restart.py",
    "tests/cli/test_keys_and_bank.py",
    "tests/test_readme.py",
    "tests/cli/test_database_mistakes.py",
    "tests/jobs/test_sqlite_in_flight.py",
    "tests/guide/test_guide_javascript.py",
    "tests/jobs/test_pg_store.py",
    "tests/test_warm_pools.py",
    "tests/test_log_format.py",
    "tests/generation/test_trusted_jobs.py",
)
"""Modules with a test of 5 s or more, longest first (after the groups of TOGETHER, which xdist
deals out first, the most tests first): then the workers end together on short tests rather
than one waiting for another's last long one."""

TOGETHER = {
    "tests/jobs/test_processes.py": "postgres-processes-a",
    "tests/tracing/test_otlp_export.py": "postgres-processes-a",
    "tests/jobs/test_database_cut.py": "postgres-processes-b",
    "tests/jobs/test_webhook_crash.py": "postgres-processes-b",
    "tests/batches/test_batch_processes.py": "postgres-processes-b",
    "tests/jobs/test_presence.py": "postgres-processes-b",
    "tests/test_cli.py::test_fresh_serve_answers_the_guide_request_at_once": "cli-serve",
    "tests/test_cli.py::test_jobs_commands_follow_list_and_refuse": "cli-serve",
    "tests/test_cli.py::test_jobs_without_a_server_a_key_or_the_right_url": "cli-serve",
    "tests/web/test_page.py": "web-page",
    "tests/web/test_audiences.py": "web-audiences",
    "tests/web/test_api_docs.py": "web-api-docs",
    "tests/web/test_hostile_text.py": "web-hostile-text",
    "tests/web/test_assignment_pages.py": "web-assignment-pages",
}
"""Modules (or single tests, by `module::name`) whose tests run one after another on one
worker. The multi-process PostgreSQL modules, in two groups: more of their tests at once ran the
server out of its 100 connections, and their nodes now keep pools of 10 rather than 20
(`PRACTICEGEN_DB_POOL_SIZE` in tests/jobs/test_processes.py), so one test of each group at once
fits beside the rest of the suite (the one with four nodes held 27 at its peak). The command
line's tests that share one `serve`, the first of them on its cold caches. Each page module's
tests share one browser."""


class TogetherScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """xdist's `load`, a test at a time to whichever worker is free, except that each group of
    TOGETHER goes to one worker whole (xdist's own `loadgroup` no longer finds its marks)."""

    def _split_scope(self, nodeid: str) -> str:
        test = nodeid.split("[", maxsplit=1)[0]
        module = test.split("::", maxsplit=1)[0]
        return TOGETHER.get(test) or TOGETHER.get(module) or nodeid


def pytest_configure(config: pytest.Config) -> None:
    # The README's command compiles the installed packages; the suite's processes (started after
    # this) keep what they compile of the rest (the project's own modules) rather than each
    # compiling it again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def pytest_collection_finish(session: pytest.Session) -> None:
    # a test process lives long, like a server: the same collector settings, its start-up heap
    # (every test module, once collected) frozen
    gc_tuning.settle()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return TogetherScheduling(config, log) if config.getvalue("dist") == "load" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
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
    """A prepared database that per-test databases are cloned from."""
    name = postgres.create_database(prefix="pgtemplate")
    try:
        asyncio.run(prepare(make_settings(postgres.database_url(name))))
        yield name
    finally:
        postgres.drop_database(name)


@pytest.fixture(scope="session")
def postgres_clones(postgres_template: str) -> Iterator[postgres.Clones]:
    clones = postgres.Clones(postgres_template)
    try:
        yield clones
    finally:
        clones.close()


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    clones: postgres.Clones = request.getfixturevalue("postgres_clones")
    name = clones.take()
    try:
        yield postgres.database_url(name)
    finally:
        clones.give_back(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared SQLite file that per-test databases are copied from."""
    path = tmp_path_factory.mktemp("sqlite-template") / "practicegen.db"
    asyncio.run(prepare(make_settings(f"sqlite+aiosqlite:///{path}")))
    return path


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "api_key": ADMIN_KEY,
        "log_format": "json",
        "log_level": "WARNING",
        "demo_bank": False,
        "pools_at_start": False,  # most tests never grade or generate
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_database")
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    for suffix in ("", "-wal"):  # a file and its log, written and closed
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / source.name)
    return f"sqlite+aiosqlite:///{tmp_path / template.name}"


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched, as a first start finds it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"
        return
    name = postgres.create_database(prefix="pgempty")
    try:
        yield postgres.database_url(name)
    finally:
        postgres.drop_database(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test's settings, on a copy of a database `prepare` made ready once (schema, tenant,
    the admin key), as `serve` leaves it before it listens."""
    return make_settings(database_url)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[SessionMaker]:
    """Sessions on the test's prepared database, without a server."""
    engine = create_engine(settings)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[StartedApp]:
    """The test's node: the app built from `settings`, its lifespan running."""
    async with started_app(settings) as started:
        yield started


@pytest.fixture
async def server(app: StartedApp, settings: Settings) -> AsyncIterator[RunningServer]:
    """A real server in front of the test's node, for what needs a socket."""
    async with serving(app, settings) as running:
        yield running


@pytest.fixture
async def client(app: StartedApp) -> AsyncIterator[httpx.AsyncClient]:
    """The admin, talking to the test's node in process."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with in_process_client(app, headers=headers, timeout=30) as http:
        yield http


@pytest.fixture
async def anonymous(app: StartedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(app, timeout=30) as http:
        yield http
