"""Filling an async job's gap with questions a language model writes, each verified first.

Only jobs use this filler: the sync endpoint never waits on a model (when it would need one, it
answers 202 and a job does the work). For each skill the gap needs, the model is shown a few
bank items of that skill and asked for the questions concurrently (`LlmGenerator`, whose every
accepted question has passed `llm_verify`). Questions the model could not produce within its
retries, and any that repeat what the student or the bank already has, are replaced by
procedural items where a generator covers the skill; anything still missing is reported by
skill. Before calling the model the job reserves tokens against the tenant's daily budget, and
records what it really spent once the model is done. The skills and examples read from a
tenant's bank are kept while the bank's version stays the same (`BankReads`): a burst of jobs
for one topic reads them once, not once per job.

For the subjects the procedural generators know to be mathematics the model writes equations
(checked by solving them again with sympy); for any other subject, multiple-choice questions
(checked by self-consistency), so with a model configured every subject can be served.
A tenant may require a second model to agree with every multiple-choice key
(`tenants.service.requires_check_model`): without a check model on the node, such questions
are not asked of the model at all and count as rejected for `check_model_required`.
A skill whose declared profile has no equations (`fractions.add`, `exponents.rules`) is not
asked of the model at all: every draft would be refused as off-skill, so the procedural
generators make its items at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.engine import SessionMaker
from practicegen.generation.budget import UsageRecorder, check_budget, day_of
from practicegen.generation.filler import ProceduralFiller, generated_row
from practicegen.generation.llm import MAX_EXAMPLES, LlmBatch, LlmGenerator
from practicegen.generation.llm_verify import Reason
from practicegen.generation.procedural.catalog import PROFILES
from practicegen.items.fingerprint import fingerprint
from practicegen.items.repository import ItemRepository
from practicegen.items.schemas import ItemContent
from practicegen.items.service import to_content
from practicegen.ports import Filled, GapRequest, Progress
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

    Only the newest version seen per tenant is kept; a read made against an older one (a job
    planned just before a change) is answered from the database and not kept. Concurrent
    first reads of one key may each go to the database: the answers are the same.
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
        if version is None:
            return await read()
        held = self._tenants.get(tenant_id)
        if held is None or held[0] < version:
            held = (version, {})
            self._tenants.pop(tenant_id, None)
            self._tenants[tenant_id] = held
            while len(self._tenants) > self.max_tenants:
                del self._tenants[next(iter(self._tenants))]  # the longest unrenewed
        elif held[0] > version:
            return await read()
        values = held[1]
        if key not in values:
            values[key] = await read()
        return cast(_T, values[key])


class LlmFiller:
    """Writes what the bank lacks with a model; procedural items stand in for its failures."""

    def __init__(
        self,
        *,
        generator: LlmGenerator,
        procedural: ProceduralFiller,
        sessionmaker: SessionMaker,
        budget: LlmBudget,
        clock: Callable[[], datetime],
    ) -> None:
        self.generator = generator
        self.procedural = procedural
        self.budget = budget
        self.clock = clock
        self.usage = UsageRecorder(sessionmaker)
        self.bank = BankReads()

    def covers(self, subject: str, topic: str | None) -> bool:
        return True

    def unchecked(self, subject: str) -> bool:
        kind = self._kind(subject)
        return kind == "multiple_choice" and self.generator.choice_check is None

    def _kind(self, subject: str) -> str:
        return "equation" if subject in self.procedural.subjects() else "multiple_choice"

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
        refused = await self._refused(session, gap, asked)
        asked -= refused
        examples = {skill: await self._examples(session, gap, skill) for skill in asked}
        # Hand the connection back while the model works (tens of seconds): a thousand waiting
        # jobs must not hold a thousand database connections. Nothing read so far is an ORM
        # object used later, so ending the read-only transaction loses nothing.
        await session.rollback()
        batches = await self._write(gap, asked, examples, progress) + refused_batches(refused)
        await self._record(gap.tenant_id, sum(b.usage.total_tokens for b in batches))
        await progress(_LAST, "Checking the generated questions against the bank...")
        return await self._assemble(session, gap, counts, batches)

    async def _refused(
        self, session: AsyncSession, gap: GapRequest, asked: Counter[str]
    ) -> Counter[str]:
        """What the model may not write for this tenant: multiple-choice questions that only
        self-consistency would check, when the tenant requires a second model to agree."""
        if not asked or not self.unchecked(gap.subject):
            return Counter()
        return asked.copy() if await requires_check_model(session, gap.tenant_id) else Counter()

    async def _write(
        self,
        gap: GapRequest,
        asked: Counter[str],
        examples: dict[str, list[ItemContent]],
        progress: Progress,
    ) -> list[LlmBatch]:
        written = _Written(sum(asked.values()), progress)
        return await asyncio.gather(
            *(
                self.generator.generate(
                    skill,
                    gap.topic or (examples[skill][0].topic if examples[skill] else gap.subject),
                    gap.subject,
                    gap.difficulty,
                    examples[skill],
                    count,
                    written.step,
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
        return sorted(known) or [_skill_slug(gap.topic or gap.subject)]

    async def _examples(
        self, session: AsyncSession, gap: GapRequest, skill: str
    ) -> list[ItemContent]:
        async def read() -> tuple[ItemContent, ...]:
            rows = await ItemRepository(session).examples(
                gap.tenant_id, subject=gap.subject, skill=skill, limit=MAX_EXAMPLES
            )
            return tuple(to_content(row) for row in rows)

        key = ("examples", gap.subject, skill)
        return list(await self.bank.get(gap.tenant_id, gap.bank_version, key, read))

    async def _record(self, tenant_id: uuid.UUID, tokens: int) -> None:
        await self.usage.record(tenant_id, day_of(self.clock()), tokens)

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
        rejections: Counter[str] = Counter()
        for batch in batches:
            rejections.update(batch.rejections)
        accepted: list[ItemContent] = []
        for item in items:
            key = fingerprint(item)
            if key in avoid or key in known:
                rejections["duplicate_of_bank_or_recent"] += 1
                continue
            avoid.add(key)
            accepted.append(item)
        how = "written by the model, verified"
        filled = Filled(items=[generated_row(gap, i, how) for i in accepted])
        lacking = counts - Counter(i.skill for i in accepted)
        replaced = await self._replace(session, gap, lacking, frozenset(avoid))
        filled.items += replaced.items
        filled.unproduced = replaced.unproduced
        filled.report = _report(
            self.generator.model,
            sum(b.requested for b in batches),
            accepted,
            rejections,
            batches,
            replaced,
        )
        log.info("generation.llm_filled", **filled.report["llm"])
        return filled

    async def _replace(
        self, session: AsyncSession, gap: GapRequest, lacking: Counter[str], avoid: frozenset[str]
    ) -> Filled:
        """Procedural items for what the model did not produce, skill by skill."""
        result = Filled()
        covered = self.procedural.skill_topics(gap.subject, None)
        for skill, count in lacking.items():
            if skill not in covered or count <= 0:
                result.unproduced[skill] = result.unproduced.get(skill, 0) + count
                continue
            stand_in = dataclasses.replace(
                gap,
                topic=covered[skill],
                skills=[skill],
                count=count,
                avoid_fingerprints=avoid | {row.fingerprint for row, _ in result.items},
            )
            made = await self.procedural.fill(session, stand_in, _silent)
            result.items += made.items
            for name, short in made.unproduced.items():
                result.unproduced[name] = result.unproduced.get(name, 0) + short
        return result


class _Written:
    """Relays "Generating AI question k of n..." over the whole gap, across skill batches."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total = total
        self.started = 0
        self.progress = progress

    async def step(self, _k: int, _n: int, _message: str) -> None:
        self.started += 1
        k, n = self.started, self.total
        percent = _FIRST + (_LAST - _FIRST) * (k - 1) // max(n, 1)
        await self.progress(percent, f"Generating AI question {k} of {n}...")


def refused_batches(refused: Counter[str]) -> list[LlmBatch]:
    """Each refused question counted as a draft rejected for `check_model_required`."""
    reason = Reason.CHECK_MODEL_REQUIRED.value
    return [LlmBatch(requested=n, rejections=Counter({reason: n})) for n in refused.values()]


async def _silent(_percent: int, _message: str) -> None:
    return None


def _skill_slug(name: str) -> str:
    return "_".join(name.lower().split()) + ".general"


def _report(
    model: str,
    requested: int,
    accepted: list[ItemContent],
    rejections: Counter[str],
    batches: Sequence[LlmBatch],
    replaced: Filled,
) -> dict[str, Any]:
    usage = {
        "prompt_tokens": sum(b.usage.prompt_tokens for b in batches),
        "completion_tokens": sum(b.usage.completion_tokens for b in batches),
        "total_tokens": sum(b.usage.total_tokens for b in batches),
    }
    return {
        "llm": {
            "requested": requested,
            "accepted": len(accepted),
            "rejected": sum(rejections.values()),
            "rejections": dict(sorted(rejections.items())),
            "model": model,
        },
        "procedural_replacements": len(replaced.items),
        "unproduced": dict(replaced.unproduced),
        "token_usage": usage,
    }
