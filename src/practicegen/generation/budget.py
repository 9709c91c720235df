"""The per-tenant daily budget of language-model tokens, kept in the `llm_usage` table.

A job reserves an estimate before it calls the model (so a job that would exceed the budget
fails at once with a clear error, before spending anything) and records what it really spent
afterwards. Days are UTC dates. The check and the record are separate short transactions: two
jobs checking at the same moment may together overshoot by one job's spending, which a
budget meant to bound cost, not to meter it exactly, tolerates.

Records go through one `UsageRecorder` per process, which gathers what jobs report at the same
moment into one transaction. Jobs whose model calls end together (a burst of a thousand, all
of one tenant) would otherwise each update that tenant's row in a transaction of its own, and
queue on the row's lock while holding pooled connections. A job still returns only once its
tokens are committed.
"""

from __future__ import annotations

import asyncio
import uuid
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


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def spent(self, tenant_id: uuid.UUID, day: str) -> int:
        query = select(LlmUsage.tokens).where(LlmUsage.tenant_id == tenant_id, LlmUsage.day == day)
        return int((await self.session.execute(query)).scalar_one_or_none() or 0)

    async def add(self, tenant_id: uuid.UUID, day: str, tokens: int) -> None:
        row = {"tenant_id": tenant_id, "day": day, "tokens": tokens}
        statement = upsert(self.session, LlmUsage).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[LlmUsage.tenant_id, LlmUsage.day],
            set_={"tokens": LlmUsage.tokens + statement.excluded.tokens},
        )
        await self.session.execute(statement)


async def check_budget(
    session: AsyncSession, *, tenant_id: uuid.UUID, budget: int | None, reserve: int, now: datetime
) -> None:
    """Raise TokenBudgetExceeded if spending `reserve` more today would pass `budget`."""
    if budget is None:
        return
    spent = await UsageRepository(session).spent(tenant_id, day_of(now))
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
    """Adds spent tokens to `llm_usage`, many jobs' in one transaction (a group commit).

    The first report starts a write; reports arriving while it runs are summed per tenant and
    day and go in the next one. `record` returns when the write carrying its tokens committed,
    or raises what that write raised. A caller cancelled while it waits does not take its
    tokens back: they were spent.
    """

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker
        self._pending: dict[UsageKey, int] = {}
        self._waiters: list[asyncio.Future[BaseException | None]] = []
        self._writing: asyncio.Task[None] | None = None

    async def record(self, tenant_id: uuid.UUID, day: str, tokens: int) -> None:
        if tokens <= 0:
            return
        key = (tenant_id, day)
        self._pending[key] = self._pending.get(key, 0) + tokens
        written = asyncio.get_running_loop().create_future()
        self._waiters.append(written)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_while_pending())
        error = await asyncio.shield(written)
        if error is not None:
            raise error

    async def aclose(self) -> None:
        """Wait for the write in flight, so no reported tokens are dropped at shutdown."""
        if self._writing is not None:
            await self._writing

    async def _write_while_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
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
            usage = UsageRepository(session)
            for (tenant_id, day), tokens in sorted(batch.items()):  # one lock order everywhere
                await usage.add(tenant_id, day, tokens)
