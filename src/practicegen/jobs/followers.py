"""Reading jobs for the clients that follow them: status polls, long-polls, event streams and
WebSockets.

A burst of followers, or one change watched by many, must not cost a read (and a pooled
connection) each: `FollowerReads` puts every read asked for while its last query ran into the
next one, one `SELECT ... WHERE id IN (...)` of only the columns a follower is shown, so all
of a node's followers together hold at most one database connection at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, core_table
from practicegen.jobs.batching import Batcher

MAX_READS = 500
"""Jobs one query reads at most (each id is one of its parameters)."""


@dataclass(frozen=True, slots=True)
class FollowedJob:
    """What a follower may be shown of a job, and what decides whether it may see it; one
    read may be shown to many followers, so it is never changed in place."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    student_id: uuid.UUID | None
    job_type: str
    status: str
    seq: int
    progress_percent: int
    progress_message: str | None
    attempt: int
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None


_jobs = core_table(Job)
_COLUMNS = [_jobs.c[name] for name in FollowedJob.__dataclass_fields__]
_READ = select(*_COLUMNS).where(_jobs.c.id.in_(bindparam("ids", expanding=True)))


class FollowerReads(Batcher[FollowedJob]):
    """Reads of jobs by id, each query taking every read asked for since the last one began;
    `get` answers the job as it is now (read after the call began), or None if there is none."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        """`sessionmaker`: sessions for single reads (autocommit on PostgreSQL); its engine's
        connections are used directly, as a read of a few columns needs no ORM session."""
        super().__init__(self._read, MAX_READS)
        engine = sessionmaker.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        self.engine = engine

    async def _read(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, FollowedJob]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(_READ, {"ids": ids})
            return {row.id: FollowedJob(*row) for row in rows}
