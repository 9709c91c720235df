"""Change signals: what they carry, how watchers keep the newest, and how many may watch."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from practicegen.api.errors import status_for
from practicegen.bootstrap import prepare
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.jobs.events import CHANNEL, JobChange, JobChanges, TooManyFollowers
from practicegen.jobs.repository import JobRepository
from tests.conftest import make_settings
from tests.support.jobs import running_job, store_writes


def test_a_change_travels_whole_in_its_payload() -> None:
    now = datetime.now(UTC)
    job_id = uuid.uuid4()
    payload = json.dumps([str(job_id), 7, "processing", 40, "Selecting...", 2, now.isoformat()])
    change = JobChange.parse(payload)
    assert change == JobChange(job_id, 7, "processing", 40, "Selecting...", 2, now)
    assert change.running and change.progress_of_attempt


def test_a_change_from_a_node_that_sends_less_makes_a_poll_read_the_job() -> None:
    """A signal without the attempt and time (an older node, mid-upgrade) is still a change,
    but a long-poll must read the job to answer it."""
    job_id = uuid.uuid4()
    received = JobChange.parse(f'["{job_id}", 7, "processing", 40, "Half."]')
    assert received == JobChange(job_id, 7, "processing", 40, "Half.")
    assert received.running and not received.progress_of_attempt
    naive = JobChange.parse(f'["{job_id}", 7, "processing", 40, "Half.", 2, "2026-01-01T00:00:00"]')
    assert not naive.progress_of_attempt
    queued = JobChange(job_id, 8, "pending", 0, "Retrying...", 2, datetime.now(UTC))
    assert queued.running and not queued.progress_of_attempt  # a retry changed its error too


def test_a_change_that_says_nothing_else_travels_as_the_bare_job_id() -> None:
    job_id = uuid.uuid4()
    received = JobChange.parse(str(job_id))
    assert received == JobChange(job_id)
    assert not received.running  # so the subscriber reads the job


def test_a_terminal_change_is_not_enough_on_its_own() -> None:
    assert not JobChange(uuid.uuid4(), 9, "completed", 100, "Completed.").running


@pytest.mark.parametrize(
    "payload",
    ["", "nope", "[]", "[1", '["not-a-uuid", 1, "processing", 0, ""]', '["%s"]', '["%s", null]'],
)
def test_a_payload_that_is_not_a_change_is_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        JobChange.parse(payload.replace("%s", str(uuid.uuid4())))


def test_a_watch_keeps_the_newest_change_and_remembers_a_request_to_read() -> None:
    hub = JobChanges()
    job_id = uuid.uuid4()
    with hub.watch(job_id) as watch:
        hub.notify(JobChange(job_id, 3, "processing", 30, "c"))
        hub.notify(JobChange(job_id, 2, "processing", 20, "b"))  # late duplicate
        hub.notify(JobChange(uuid.uuid4(), 9, "processing", 90, "other job"))
        assert watch.changed.is_set()
        assert watch.take() == (JobChange(job_id, 3, "processing", 30, "c"), None, False)
        assert not watch.changed.is_set()
        hub.notify_all()  # a hub with no reader: each watcher reads for itself
        assert watch.take() == (None, None, True)
    assert hub.watched_jobs() == []


def test_a_node_past_its_watch_limit_refuses_the_next_until_one_ends() -> None:
    hub = JobChanges(max_watches=2)
    job_id = uuid.uuid4()
    with hub.watch(job_id), hub.watch(uuid.uuid4()):
        with pytest.raises(TooManyFollowers) as refused, hub.watch(job_id):
            pass
        assert refused.value.retry_after_s > 0
        assert status_for(refused.value) == 503
    with hub.watch(job_id), hub.watch(job_id):  # the ended ones' places are free again
        assert hub.watched_jobs() == [job_id]
    assert hub.watched_jobs() == []


@pytest.mark.postgres
async def test_a_write_on_postgresql_signals_what_the_row_now_says(postgres_database: str) -> None:
    """The UPDATE sends its own NOTIFY: the row's change, and the bare job id when that would
    not fit a notification."""
    settings = make_settings(postgres_database)
    await prepare(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    conninfo = postgres_conninfo(postgres_database)
    try:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listener:
            await listener.execute(f"LISTEN {CHANNEL}")
            async with sessionmaker() as session, session.begin():
                job = running_job(status="pending", attempt=0)
                session.add(job)
            now = datetime.now(UTC)
            async with sessionmaker() as session, session.begin():
                repo = JobRepository(session, store_writes(settings))
                claimed = (await repo.claim_many([job.id], now))[job.id]
                assert claimed.attempt == 1
                long = {"status": "pending", "progress_message": "é" * 5000}
                back = await repo.finish(job.id, 1, long, now)
                assert back is not None and back.seq == claimed.seq + 1
            received = []
            async for notice in listener.notifies(timeout=5, stop_after=2):
                received.append(JobChange.parse(notice.payload))
            assert received == [JobChange.of(claimed), JobChange(job.id)]
            assert received[0] == JobChange(job.id, 2, "processing", 0, "Starting...", 1, now)
            assert received[0].progress_of_attempt
    finally:
        await engine.dispose()
