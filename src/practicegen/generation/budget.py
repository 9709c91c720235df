"""The per-tenant daily budget of language-model tokens, kept in the `llm_usage` table.

A job reserves an estimate before it calls the model (so a job that would exceed the budget
fails at once with a clear error, before spending anything) and records what it really spent
afterwards. Days are UTC dates. The check and the record are separate short transactions: two
jobs checking at the same moment may together overshoot by one job's spending, which a
budget meant to bound cost, not to meter it exactly, tolerates.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import LlmUsage
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
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(LlmUsage).values(tenant_id=tenant_id, day=day, tokens=tokens)
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
