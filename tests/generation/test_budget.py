"""Recording what jobs spent on the model: many jobs' tokens in one transaction, none lost.

Both backends. A burst of jobs reporting at once is summed per tenant and day and written in a
few transactions, each job returning once its tokens are committed; a failed write fails the
jobs it carried, and the recorder goes on working for the next ones.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.db.models import LlmUsage
from practicegen.generation.budget import UsageRecorder

DAY, NEXT_DAY = "2026-11-29", "2026-11-30"


@pytest.fixture
async def counted(settings: Settings) -> AsyncIterator[tuple[SessionMaker, list[int]]]:
    """A sessionmaker, and a list that grows by one for each transaction committed."""
    engine = create_engine(settings)
    commits: list[int] = []

    def on_commit(_connection: Any) -> None:
        commits.append(1)

    event.listen(engine.sync_engine, "commit", on_commit)
    try:
        yield create_sessionmaker(engine), commits
    finally:
        await engine.dispose()


async def spent(sessionmaker: SessionMaker) -> dict[str, int]:
    async with sessionmaker() as session:
        rows = await session.execute(select(LlmUsage.day, LlmUsage.tokens))
        return {day: tokens for day, tokens in rows.all()}


async def test_a_burst_of_reports_is_written_in_a_few_transactions(
    counted: tuple[SessionMaker, list[int]],
) -> None:
    sessionmaker, commits = counted
    recorder = UsageRecorder(sessionmaker)
    reports = [(DAY if n % 4 else NEXT_DAY, 10 + n) for n in range(200)]

    await asyncio.gather(*(recorder.record(DEFAULT_TENANT_ID, day, t) for day, t in reports))

    assert await spent(sessionmaker) == {
        DAY: sum(t for day, t in reports if day == DAY),
        NEXT_DAY: sum(t for day, t in reports if day == NEXT_DAY),
    }
    assert len(commits) <= 3  # the first report's own write, then everything that waited
    await recorder.record(DEFAULT_TENANT_ID, DAY, 0)  # nothing spent: nothing written
    assert len(commits) <= 3


async def test_a_failed_write_fails_its_jobs_and_the_next_ones_are_recorded(
    counted: tuple[SessionMaker, list[int]],
) -> None:
    sessionmaker, _commits = counted
    recorder = UsageRecorder(sessionmaker)
    unknown_tenant = uuid.uuid4()  # no such tenant: the foreign key refuses the row

    results = await asyncio.gather(
        recorder.record(unknown_tenant, DAY, 5),
        recorder.record(DEFAULT_TENANT_ID, DAY, 7),
        return_exceptions=True,
    )

    assert all(isinstance(r, Exception) for r in results), results  # one write carried both
    await recorder.record(DEFAULT_TENANT_ID, DAY, 11)
    assert await spent(sessionmaker) == {DAY: 11}


async def test_a_job_cancelled_while_it_waits_still_has_its_tokens_counted(
    counted: tuple[SessionMaker, list[int]],
) -> None:
    sessionmaker, _commits = counted
    recorder = UsageRecorder(sessionmaker)
    first = asyncio.create_task(recorder.record(DEFAULT_TENANT_ID, DAY, 3))
    waiting = asyncio.create_task(recorder.record(DEFAULT_TENANT_ID, DAY, 4))
    await asyncio.sleep(0)  # both reported; the first write is under way
    waiting.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await recorder.aclose()
    assert await spent(sessionmaker) == {DAY: 7}
