"""The per-tenant daily budget of language-model tokens (UTC days), kept in `llm_usage`.

A job reserves an estimate before calling the model, so it fails before spending anything, and
records what it spent after. Check and record are separate transactions: concurrent jobs may
overshoot by one job's spending, which a cost bound tolerates.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.engine import SessionMaker
from practicegen.db.models import LlmUsage
from practicegen.db.upsert import upsert
from practicegen.errors import InvalidRequest


class TokenBudgetExceeded(InvalidRequest):
    code = "llm_token_budget_exceeded"
    default_message = "This job would exceed the tenant's daily language-model token budget."


def day_of(now: datetime) -> str:
    return now.date().isoformat()


async def check_budget(
    session: AsyncSession, *, tenant_id: uuid.UUID, budget: int | None, reserve: int, now: datetime
) -> None:
    """Raise TokenBudgetExceeded if spending `reserve` more today would pass `budget`."""
    if budget is None:
        return
    query = select(LlmUsage.tokens).where(
        LlmUsage.tenant_id == tenant_id, LlmUsage.day == day_of(now)
    )
    spent = int((await session.execute(query)).scalar_one_or_none() or 0)
    if spent + reserve > budget:
        raise TokenBudgetExceeded(
            f"This job needs up to {reserve} language-model tokens; the tenant has spent "
            f"{spent} of its daily budget of {budget} (PRACTICEGEN_LLM_DAILY_TOKEN_BUDGET). "
            "Try fewer items, or again after midnight UTC.",
            spent=spent,
            reserve=reserve,
            budget=budget,
        )


UsageKey = tuple[uuid.UUID, str]  # (tenant, UTC day)


class UsageRecorder:
    """Adds spent tokens to `llm_usage`, many jobs' in one transaction (a group commit), so a
    burst of one tenant's jobs does not queue on its row lock holding pooled connections.

    `record` returns when the write carrying its tokens committed, or raises what it raised; a
    caller cancelled while it waits does not take its tokens back: they were spent.
    """

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker
        self._pending: Counter[UsageKey] = Counter()
        self._waiters: list[asyncio.Future[BaseException | None]] = []
        self._writing: asyncio.Task[None] | None = None

    async def record(self, tenant_id: uuid.UUID, day: str, tokens: int) -> None:
        if tokens <= 0:
            return
        self._pending[(tenant_id, day)] += tokens
        written = asyncio.get_running_loop().create_future()
        self._waiters.append(written)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_while_pending())
        if (error := await asyncio.shield(written)) is not None:
            raise error

    async def aclose(self) -> None:
        """Wait for the write in flight, so no reported tokens are dropped at shutdown."""
        if self._writing is not None:
            await self._writing

    async def _write_while_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, Counter()
            waiters, self._waiters = self._waiters, []
            error: BaseException | None = None
            try:
                await self._write(batch)
            except Exception as exc:  # each waiting job fails with it, as its own write would
                error = exc
            for waiter in waiters:
                waiter.set_result(error)

    async def _write(self, batch: dict[UsageKey, int]) -> None:
        async with self.sessionmaker() as session, session.begin():
            for (tenant_id, day), tokens in sorted(batch.items()):  # one lock order everywhere
                row = {"tenant_id": tenant_id, "day": day, "tokens": tokens}
                statement = upsert(session, LlmUsage).values(row)
                statement = statement.on_conflict_do_update(
                    index_elements=[LlmUsage.tenant_id, LlmUsage.day],
                    set_={"tokens": LlmUsage.tokens + statement.excluded.tokens},
                )
                await session.execute(statement)
