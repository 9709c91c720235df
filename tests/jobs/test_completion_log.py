"""A worker cut off just as its job's completion commits still logs `job.completed`.

An in-process node with its worker, on both backends. The cut comes at the protocol level: a
session listener cancels the job's attempt once the COMMIT that completes it has returned, and
yields to the loop there, as an attempt cancelled while awaiting that COMMIT would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_

from practicegen.bootstrap import prepare
from practicegen.jobs.worker import JobRunner
from tests.api.test_jobs import wait_terminal
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.processes import wait_until
from tests.support.server import in_process_client, started_app

_COMPLETES = "test.completes_job"


def _attempts() -> list[asyncio.Task[Any]]:
    """The running job attempts: tasks of `JobRunner._attempt`."""
    attempt = JobRunner._attempt.__qualname__
    tasks = asyncio.all_tasks()
    return [t for t in tasks if getattr(t.get_coro(), "__qualname__", None) == attempt]


class CommitRefused(RuntimeError):
    pass


@contextmanager
def attempts_cut_at_completion(*, then_refused: bool = False) -> Iterator[list[str]]:
    """While open, cancel the job attempts as soon as a commit completing a job returns; yields
    the statuses those commits set, one per cut. `then_refused`: cut them as the completing
    UPDATE is sent instead, and fail it."""
    cuts: list[str] = []

    def note(state: ORMExecuteState) -> None:
        params = state.parameters
        if (
            state.is_update
            and isinstance(params, Mapping)
            and params.get("new_status") == "completed"
        ):
            if then_refused:
                cuts.append("refused")
                for task in _attempts():
                    task.cancel()
                raise CommitRefused("the database refused the completion")
            state.session.info[_COMPLETES] = True

    def cut(session: Session) -> None:
        if session.info.pop(_COMPLETES, False):
            cuts.append("completed")
            for task in _attempts():
                task.cancel()
            # the commit's caller resumes as a cancelled task would: at the loop's next turn
            await_(asyncio.sleep(0))

    event.listen(Session, "do_orm_execute", note)
    event.listen(Session, "after_commit", cut)
    try:
        yield cuts
    finally:
        event.remove(Session, "after_commit", cut)
        event.remove(Session, "do_orm_execute", note)


@dataclass
class CutJob:
    http: httpx.AsyncClient
    job_id: str
    logs: list[MutableMapping[str, Any]]
    cuts: list[str]


@asynccontextmanager
async def job_cut_at_completion(database_url: str, *, then_refused: bool) -> AsyncIterator[CutJob]:
    """An in-process node with its worker, and a job created on it while its attempts are cut
    at completion (`attempts_cut_at_completion`) and the logs captured."""
    settings = make_settings(database_url, run_worker=True)
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        started_app(settings) as app,
        in_process_client(app, headers=headers, timeout=30) as http,
    ):
        await seed_bank(http)
        student = await new_student(http)
        body = {"student_id": student, "subject": "Algebra", "num_items": 3}
        with (
            structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs,
            attempts_cut_at_completion(then_refused=then_refused) as cuts,
        ):
            created = await http.post("/api/v1/practice/assign/async", json=body)
            assert created.status_code == 202, created.text
            yield CutJob(http, created.json()["job_id"], logs, cuts)


async def logged(logs: list[MutableMapping[str, Any]], name: str, limit_s: float) -> None:
    async def seen() -> bool:
        return any(e["event"] == name for e in logs)

    await wait_until(seen, limit_s=limit_s, what=f"{name} in the log")


async def test_a_completion_cut_off_after_its_commit_is_still_logged(database_url: str) -> None:
    async with job_cut_at_completion(database_url, then_refused=False) as job:
        done = await wait_terminal(job.http, job.job_id)
        await logged(job.logs, "job.completed", limit_s=5)
    assert done["status"] == "completed" and job.cuts == ["completed"]
    completed = [e for e in job.logs if e["event"] == "job.completed"]
    assert [e["job_id"] for e in completed] == [job.job_id]


async def test_a_completion_that_fails_after_its_attempt_was_cut_off_is_logged(
    database_url: str,
) -> None:
    async with job_cut_at_completion(database_url, then_refused=True) as job:
        await logged(job.logs, "job.completion_failed", limit_s=10)
    failed = [e for e in job.logs if e["event"] == "job.completion_failed"]
    assert job.cuts[:1] == ["refused"]
    assert failed[0]["job_id"] == job.job_id and "CommitRefused" in failed[0]["error"]
    assert not any(e["event"] == "job.completed" for e in job.logs)
