"""Filling an async job's gap (the sync endpoint never waits on a model) with questions a
language model writes, each verified first: equations for the generators' subjects, else
multiple-choice questions. What it could not produce, or repeats the student's or the bank's,
is replaced by procedural items where a generator covers the skill. Tokens are reserved against
the tenant's daily budget before the model is called.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.engine import SessionMaker
from practicegen.generation.budget import UsageRecorder, check_budget, day_of
from practicegen.generation.filler import ProceduralFiller, generated_row
from practicegen.generation.llm import MAX_EXAMPLES, LlmBatch, LlmGenerator, Usage
from practicegen.generation.llm_verify import Reason
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.items.fingerprint import fingerprint
from practicegen.items.repository import ItemRepository
from practicegen.items.schemas import ItemContent
from practicegen.ports import Filled, GapRequest, Progress, no_progress
from practicegen.tenants.service import requires_check_model

log = structlog.get_logger()
_T = TypeVar("_T")

# The share of a job's progress bar that writing questions takes (the rest: reading, saving).
_FIRST, _LAST = 20, 80


@dataclass(frozen=True, slots=True)
class LlmBudget:
    daily_tokens: int | None  # None: no cap
    tokens_per_question: int  # reserved per question before the model is called


class BankReads:
    """What the filler read from each tenant's bank, kept while that bank's version lasts.

    Only the newest version seen per tenant is kept; a read against an older one goes to the
    database. Concurrent first reads of one key may each go there: the answers are the same.
    """

    def __init__(self, max_tenants: int = 1024) -> None:
        self.max_tenants = max_tenants
        self._tenants: dict[uuid.UUID, tuple[int, dict[Hashable, Any]]] = {}

    async def get(
        self,
        tenant_id: uuid.UUID,
        version: int | None,
        key: Hashable,
        read: Callable[[], Awaitable[_T]],
    ) -> _T:
        held = self._tenants.get(tenant_id)
        if version is None or (held is not None and held[0] > version):
            return await read()
        if held is None or held[0] < version:
            held = (version, {})
            self._tenants.pop(tenant_id, None)
            self._tenants[tenant_id] = held
            while len(self._tenants) > self.max_tenants:
                del self._tenants[next(iter(self._tenants))]  # the longest unrenewed
        values = held[1]
        if key not in values:
            values[key] = await read()
        return cast(_T, values[key])


@dataclass(kw_only=True, eq=False)
class LlmFiller:
    """Writes what the bank lacks with a model; procedural items stand in for its failures."""

    generator: LlmGenerator
    procedural: ProceduralFiller
    sessionmaker: InitVar[SessionMaker]
    budget: LlmBudget
    clock: Callable[[], datetime]
    usage: UsageRecorder = field(init=False)
    bank: BankReads = field(init=False, default_factory=BankReads)

    def __post_init__(self, sessionmaker: SessionMaker) -> None:
        self.usage = UsageRecorder(sessionmaker)

    def covers(self, subject: str, topic: str | None) -> bool:
        return True

    def unchecked(self, subject: str) -> bool:
        return self._kind(subject) == "multiple_choice" and self.generator.choice_check is None

    def _kind(self, subject: str) -> str:
        return "equation" if self.procedural.covers(subject, None) else "multiple_choice"

    def _writable(self, subject: str, skill: str) -> bool:
        """Whether the model's kind of question for `subject` can be of `skill` at all."""
        kind = self._kind(subject)
        profile = PROFILES.get(skill)
        return kind != "equation" or profile is None or kind in profile.kinds

    async def aclose(self) -> None:
        await self.usage.aclose()
        await self.generator.aclose()

    async def fill(self, session: AsyncSession, gap: GapRequest, progress: Progress) -> Filled:
        wanted = await self._skills(session, gap)
        await check_budget(
            session,
            tenant_id=gap.tenant_id,
            budget=self.budget.daily_tokens,
            reserve=gap.count * self.budget.tokens_per_question,
            now=self.clock(),
        )
        counts = Counter(wanted[i % len(wanted)] for i in range(gap.count))
        # A skill whose problems the model's kind of question cannot be (a fraction sum is not
        # an equation) goes straight to the procedural generators: its drafts would be off-skill.
        asked = Counter({s: n for s, n in counts.items() if self._writable(gap.subject, s)})
        refused: Counter[str] = Counter()
        # Multiple-choice questions that only self-consistency would check are not written for
        # a tenant that requires a second model to agree with every key.
        unchecked = bool(asked) and self.unchecked(gap.subject)
        if unchecked and await requires_check_model(session, gap.tenant_id):
            refused, asked = asked, Counter()
        examples = {skill: await self._examples(session, gap, skill) for skill in asked}
        # Hand the connection back while the model works (tens of seconds): waiting jobs must not
        # hold connections. Nothing read is an ORM object used later, so nothing is lost.
        await session.rollback()
        batches = await self._write(gap, asked, examples, progress)
        reason = Reason.CHECK_MODEL_REQUIRED.value
        batches += [
            LlmBatch(requested=n, rejections=Counter({reason: n})) for n in refused.values()
        ]
        spent = sum(b.usage.total_tokens for b in batches)
        await self.usage.record(gap.tenant_id, day_of(self.clock()), spent)
        await progress(_LAST, "Checking the generated questions against the bank...")
        return await self._assemble(session, gap, counts, batches)

    async def _write(
        self,
        gap: GapRequest,
        asked: Counter[str],
        examples: dict[str, list[ItemContent]],
        progress: Progress,
    ) -> list[LlmBatch]:
        total, started = sum(asked.values()), 0

        async def step(_k: int, _n: int, _message: str) -> None:
            """Relays "Generating AI question k of n..." over the whole gap, across skills."""
            nonlocal started
            started += 1
            percent = _FIRST + (_LAST - _FIRST) * (started - 1) // max(total, 1)
            await progress(percent, f"Generating AI question {started} of {total}...")

        return await asyncio.gather(
            *(
                self.generator.generate(
                    skill,
                    gap.topic or (examples[skill][0].topic if examples[skill] else gap.subject),
                    gap.subject,
                    gap.difficulty,
                    examples[skill],
                    count,
                    step,
                    kind=self._kind(gap.subject),
                )
                for skill, count in asked.items()
            )
        )

    async def _skills(self, session: AsyncSession, gap: GapRequest) -> list[str]:
        if gap.skills:
            return list(gap.skills)
        known = self.procedural.skill_topics(gap.subject, gap.topic)
        in_bank = await self.bank.get(
            gap.tenant_id,
            gap.bank_version,
            ("skills", gap.subject, gap.topic),
            lambda: ItemRepository(session).skills(gap.tenant_id, gap.subject, gap.topic),
        )
        known.update(dict.fromkeys(in_bank, ""))
        return sorted(known) or ["_".join((gap.topic or gap.subject).lower().split()) + ".general"]

    async def _examples(
        self, session: AsyncSession, gap: GapRequest, skill: str
    ) -> list[ItemContent]:
        async def read() -> tuple[ItemContent, ...]:
            rows = await ItemRepository(session).examples(
                gap.tenant_id, subject=gap.subject, skill=skill, limit=MAX_EXAMPLES
            )
            return tuple(ItemContent.model_validate(row, from_attributes=True) for row in rows)

        key = ("examples", gap.subject, skill)
        return list(await self.bank.get(gap.tenant_id, gap.bank_version, key, read))

    async def _assemble(
        self,
        session: AsyncSession,
        gap: GapRequest,
        counts: Counter[str],
        batches: Sequence[LlmBatch],
    ) -> Filled:
        avoid = set(gap.avoid_fingerprints)
        items = [item for batch in batches for item in batch.items]
        known = await ItemRepository(session).existing_fingerprints(
            gap.tenant_id, [fingerprint(i) for i in items]
        )
        rejections = sum((b.rejections for b in batches), Counter[str]())
        accepted: list[ItemContent] = []
        for item in items:
            key = fingerprint(item)
            if key in avoid or key in known:
                rejections["duplicate_of_bank_or_recent"] += 1
                continue
            avoid.add(key)
            accepted.append(item)
        lacking = counts - Counter(i.skill for i in accepted)
        replaced = await self._replace(session, gap, lacking, frozenset(avoid))
        report: dict[str, Any] = {
            "llm": {
                "requested": sum(b.requested for b in batches),
                "accepted": len(accepted),
                "rejected": sum(rejections.values()),
                "rejections": dict(sorted(rejections.items())),
                "model": self.generator.model,
            },
            "procedural_replacements": len(replaced.items),
            "unproduced": dict(replaced.unproduced),
            "token_usage": dataclasses.asdict(sum((b.usage for b in batches), Usage())),
        }
        log.info("generation.llm_filled", **report["llm"])
        how = "written by the model, verified"
        return Filled(
            items=[generated_row(gap, i, how) for i in accepted] + replaced.items,
            report=report,
            unproduced=replaced.unproduced,
        )

    async def _replace(
        self, session: AsyncSession, gap: GapRequest, lacking: Counter[str], avoid: frozenset[str]
    ) -> Filled:
        """Procedural items for what the model did not produce, skill by skill."""
        result = Filled()
        unproduced: Counter[str] = Counter()
        covered = self.procedural.skill_topics(gap.subject, None)
        for skill, count in lacking.items():
            if skill not in covered:
                unproduced[skill] += count
                continue
            stand_in = dataclasses.replace(
                gap,
                topic=covered[skill],
                skills=[skill],
                count=count,
                avoid_fingerprints=avoid | {row.fingerprint for row, _ in result.items},
            )
            made = await self.procedural.fill(session, stand_in, no_progress)
            result.items += made.items
            unproduced.update(made.unproduced)
        result.unproduced = dict(unproduced)
        return result
