"""Item caches that hear bank changes trust themselves until one arrives; others ask each time."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg
import pytest
from sqlalchemy import event, func, select, text

from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.models import BankVersion, Student
from practicegen.items import bank_changes
from practicegen.items.candidates import CandidateCache
from practicegen.items.repository import ItemRepository
from practicegen.items.service import import_bank
from practicegen.practice.checks import Assigning, check_request
from practicegen.practice.schemas import AssignRequest
from tests.api.factories import item_body
from tests.api.test_practice import assign, new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import running_server


def one_item(n: int) -> dict[str, object]:
    body = item_body(stem=f"Solve $x + {n} = {n + 2}$.", answer="x = 2")
    return {"format": "practicegen-bank", "version": 1, "items": [body]}


async def test_a_cache_that_hears_changes_reads_no_version_until_one_arrives(
    settings: Settings,
) -> None:
    engine = create_engine(settings)
    cache = CandidateCache(max_age_s=600)
    here = create_sessionmaker(engine, info=bank_changes.session_info(cache))
    elsewhere = create_sessionmaker(engine)  # another node: its commits reach no cache here

    async def add(sessionmaker: object, n: int) -> None:
        async with sessionmaker() as session, session.begin():  # type: ignore[operator]
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(n))

    async def count() -> int:
        async with here() as session:
            items = await cache.active_items(session, DEFAULT_TENANT_ID, "Algebra")
        return sum(len(group) for group in items.groups.values())

    try:
        await add(elsewhere, 1)
        cache.signals_started()
        assert await count() == 1
        await add(elsewhere, 2)  # unheard: the cache does not look
        assert await count() == 1
        cache.bank_changed(str(DEFAULT_TENANT_ID))
        assert await count() == 2
        await add(here, 3)  # this process's own commit drops the entry at once
        assert await count() == 3
        cache.signals_lost()
        await add(elsewhere, 4)  # without signals, the bank version is read each time
        assert await count() == 4
    finally:
        await engine.dispose()


async def test_planning_reads_the_bank_version_with_the_student_and_sees_changes(
    settings: Settings,
) -> None:
    """Without signals a sync assign needs the bank's version; it comes in the same statement
    as the student's skills, so an unchanged bank costs planning that one statement alone."""
    engine = create_engine(settings)
    cache = CandidateCache(max_age_s=600)
    sessionmaker = create_sessionmaker(engine)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    principal = Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.ADMIN)

    async def add(n: int) -> None:
        async with sessionmaker() as session, session.begin():
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(n))

    async def planned_items(student_id: uuid.UUID) -> int:
        request = AssignRequest(student_id=student_id, subject="Algebra", num_items=1)
        statements.clear()
        async with sessionmaker() as session:
            checked = await check_request(session, Assigning(principal, request, settings, cache))
        return sum(len(group) for group in checked.items.groups.values())

    try:
        await add(1)
        async with sessionmaker() as session, session.begin():
            student = Student(tenant_id=DEFAULT_TENANT_ID, display_name="Ada")
            session.add(student)
        assert await planned_items(student.id) == 1
        assert await planned_items(student.id) == 1
        assert len(statements) == 1, statements
        await add(2)  # no signal reaches this cache
        assert await planned_items(student.id) == 2
        assert len(statements) == 2, statements  # the student and version, then the items
    finally:
        await engine.dispose()


async def test_the_bank_version_moves_once_per_transaction_at_its_commit(
    settings: Settings,
) -> None:
    """Bumped last, so the tenant's row is locked only for the commit, not the whole write."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session, session.begin():
            before = await ItemRepository(session).bank_version(DEFAULT_TENANT_ID)
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(1))
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(2))
            assert await ItemRepository(session).bank_version(DEFAULT_TENANT_ID) == before
        async with sessionmaker() as session:
            after = await ItemRepository(session).bank_version(DEFAULT_TENANT_ID)
        assert after == before + 1
    finally:
        await engine.dispose()


async def test_concurrent_writers_each_move_the_version_on_rows_of_their_own(
    settings: Settings,
) -> None:
    """Every committed change counts, and the bumps do not all take one row (whose lock each
    writer would hold until its commit, queueing the tenant's writers behind one another)."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)

    async def add(n: int) -> None:
        async with sessionmaker() as session, session.begin():
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(n))

    try:
        async with sessionmaker() as session:
            before = await ItemRepository(session).bank_version(DEFAULT_TENANT_ID)
        await asyncio.gather(*(add(n) for n in range(20)))
        async with sessionmaker() as session:
            assert await ItemRepository(session).bank_version(DEFAULT_TENANT_ID) == before + 20
            rows = select(func.count()).where(BankVersion.tenant_id == DEFAULT_TENANT_ID)
            assert (await session.execute(rows)).scalar_one() > 1
    finally:
        await engine.dispose()


async def test_the_version_a_tenant_had_before_the_spread_carries_over(
    settings: Settings,
) -> None:
    """Migration 009 starts each tenant's rows from its old single version, so no cache keyed
    by that version takes a changed bank for the one it cached."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("DELETE FROM bank_versions"))
            await session.execute(text("UPDATE tenants SET bank_version = 41"))
            await session.execute(text("DELETE FROM schema_migrations WHERE version = '009'"))
        assert await migrator.upgrade(settings.database_url) == ["009"]
        async with sessionmaker() as session:
            assert await ItemRepository(session).bank_version(DEFAULT_TENANT_ID) == 41
    finally:
        await engine.dispose()


async def test_a_change_signalled_while_loading_does_not_leave_a_stale_entry(
    settings: Settings,
) -> None:
    engine = create_engine(settings)
    cache = CandidateCache(max_age_s=600)
    cache.signals_started()
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            loading = asyncio.create_task(cache.active_items(session, DEFAULT_TENANT_ID, "Algebra"))
            await asyncio.sleep(0)  # the load has begun and waits on the database
            cache.bank_changed(str(DEFAULT_TENANT_ID))
            await loading
        async with sessionmaker() as session, session.begin():
            await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=one_item(1))
        async with sessionmaker() as session:
            items = await cache.active_items(session, DEFAULT_TENANT_ID, "Algebra")
        assert sum(len(group) for group in items.groups.values()) == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_node_drops_its_cache_when_another_signals_a_change(
    postgres_database: str,
) -> None:
    """The item is retired behind the service's back, with only the signal: a node that
    read the bank version instead would keep serving it for the cache's whole lifetime."""
    settings = make_settings(postgres_database, candidate_cache_s=600)
    await prepare(settings)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as node_a,
        running_server(settings) as node_b,
        httpx.AsyncClient(base_url=node_a.base_url, headers=admin) as on_a,
        httpx.AsyncClient(base_url=node_b.base_url, headers=admin) as on_b,
    ):
        await seed_bank(on_a)
        student = await new_student(on_a)
        request = {"student_id": student, "subject": "Algebra", "topic": "Expressions"}
        first = (await assign(on_b, **request, num_items=1)).json()["data"]
        item_id = first["items"][0]["item_id"]
        conninfo = postgres_conninfo(postgres_database)
        with psycopg.connect(conninfo, autocommit=True) as db, db.transaction():
            db.execute("UPDATE items SET status = 'retired' WHERE id = %s", (item_id,))
            db.execute("SELECT pg_notify('practicegen_bank', %s)", (str(DEFAULT_TENANT_ID),))
        for _ in range(100):
            if item_id not in (await assign(on_b, **request, num_items=1)).text:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("node B still serves the retired item 10 s after the signal")
