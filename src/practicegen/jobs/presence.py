"""Which job workers run: each stamps its row of `workers` by the database's clock (so skewed
nodes agree) and deletes it on a clean stop; the next to start deletes rows left to go stale."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen import __version__
from practicegen.db.engine import SessionMaker
from practicegen.db.models import UTCDateTime, Worker

log = structlog.get_logger()


_DATABASE_NOW = func.now(type_=UTCDateTime())


@dataclass(frozen=True, slots=True)
class Sighting:
    seen: int  # workers stamped within `stale_after_s`
    stale: int  # rows older than that: workers killed outright, or cut off
    last_seen_s: float | None  # since the newest stamp; None when no worker has a row
    stale_after_s: float

    def as_dict(self) -> dict[str, object]:
        last_seen_s = None if self.last_seen_s is None else round(self.last_seen_s, 1)
        return {**dataclasses.asdict(self), "last_seen_s": last_seen_s}


async def look(session: AsyncSession, *, stale_s: float) -> Sighting:
    """Count the workers seen within `stale_s`, and those gone stale."""
    rows = await session.execute(select(Worker.last_seen, _DATABASE_NOW))
    ages = [(now - stamp).total_seconds() for stamp, now in rows]
    seen = sum(1 for age in ages if age <= stale_s)  # a stamp newer than this read counts too
    return Sighting(seen, len(ages) - seen, max(0.0, min(ages)) if ages else None, stale_s)


async def warn_if_none_seen(sessionmaker: SessionMaker, *, stale_s: float) -> None:
    """For a node whose jobs run elsewhere: log a warning at start if no worker is seen."""
    try:
        async with sessionmaker() as session:
            workers = await look(session, stale_s=stale_s)
    except Exception:  # the database away: `/readyz` says so
        log.warning("workers.look_failed", exc_info=True)
        return
    if not workers.seen:
        log.warning(
            "workers.none_seen",
            detail="no job worker is running: jobs created here stay pending until"
            " `practicegen worker` runs (or serve with PRACTICEGEN_RUN_WORKER=true)",
            **workers.as_dict(),
        )


class Presence:
    """This process's row of `workers`, kept while `registered()` runs."""

    def __init__(
        self,
        sessionmaker: SessionMaker,
        *,
        concurrency: int,
        lanes: Mapping[str, int],
        interval_s: float,
        forget_s: float,
    ) -> None:
        """`lanes`: each queue entrypoint the process consumes, and how many it runs at once."""
        self.id = uuid.uuid4()
        self.sessionmaker = sessionmaker
        self.interval_s = interval_s
        self.forget_s = forget_s
        self._row = {
            "id": self.id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "version": __version__,
            "concurrency": concurrency,
            "lanes": dict(lanes),
        }

    @contextlib.asynccontextmanager
    async def registered(self) -> AsyncIterator[None]:
        """Stamp the row now and every `interval_s` while the block runs; delete it after."""
        stamping = asyncio.create_task(self._stamp_forever())
        try:
            yield
        finally:
            stamping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stamping
            await self._deregister()

    async def _stamp_forever(self) -> None:
        while True:
            try:
                await self._stamp()
            except Exception:  # the database away: the next stamp may succeed
                log.warning("workers.stamp_failed", worker_id=str(self.id), exc_info=True)
            await asyncio.sleep(self.interval_s)

    async def _stamp(self) -> None:
        """Stamp the row; add it if it is missing (the first stamp, or forgotten meanwhile)."""
        async with self.sessionmaker() as session, session.begin():
            stamp = update(Worker).where(Worker.id == self.id).values(last_seen=_DATABASE_NOW)
            if await session.scalar(stamp.returning(Worker.id)) is not None:
                return
            now = await session.scalar(select(_DATABASE_NOW))
            assert now is not None
            forgotten = now - timedelta(seconds=self.forget_s)
            await session.execute(delete(Worker).where(Worker.last_seen < forgotten))
            await session.execute(insert(Worker).values(**self._row, started_at=now, last_seen=now))
        said = {key: self._row[key] for key in ("host", "pid", "concurrency", "lanes")}
        log.info("workers.registered", worker_id=str(self.id), **said)

    async def _deregister(self) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(delete(Worker).where(Worker.id == self.id))
        except Exception:  # the row goes stale instead
            log.warning("workers.deregister_failed", worker_id=str(self.id), exc_info=True)
        else:
            log.info("workers.deregistered", worker_id=str(self.id))
