"""Reading jobs for the clients that follow them: a node's followers together hold at most one
database connection, each query reading every job asked for while the last one ran."""

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

MAX_READS = 500  # jobs one query reads at most (each id is one of its parameters)


@dataclass(frozen=True, slots=True)
class FollowedJob:
    """What a follower may be shown of a job, and whether it may see it; shared by followers."""

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
    """Reads of jobs by id: `get` answers the job as read after the call began, or None."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        """Reads go straight to `sessionmaker`'s engine: a few columns need no ORM session."""
        super().__init__(self._read, MAX_READS)
        engine = sessionmaker.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        self.engine = engine

    async def _read(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, FollowedJob]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(_READ, {"ids": ids})
            return {row.id: FollowedJob(*row) for row in rows}
