"""Building an assignment: the two steps behind both the sync and the async assign endpoints.

`plan_assignment` validates the request against the tenant's data, reads the student's model
and the bank, selects items aimed at the target success rate, and fills what the bank lacks
from the gap filler when one is configured, writing nothing; `store_assignment` then stores the
result. Planning reports progress through a callback, so the async job can relay it and the
sync path can ignore it. Storing writes but never commits: the caller owns the transaction.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.clock import utcnow
from practicegen.config import Settings
from practicegen.db.models import Assignment, Item
from practicegen.errors import NumItemsOutOfRange, StudentNotFound
from practicegen.goals.service import skills_for_goal_tags
from practicegen.items.candidates import CandidateCache, GroupKey, SubjectItems
from practicegen.items.repository import ItemRepository
from practicegen.practice.availability import (
    MODEL_SETTING,
    GenerationFailed,
    explain_empty,
    missing_generator,
    unavailable,
)
from practicegen.practice.learner import (
    SkillState,
    ability_variance,
    aim,
    skill_state,
    target_difficulty,
)
from practicegen.practice.repository import ItemLink, PracticeRepository
from practicegen.practice.schemas import AssignRequest
from practicegen.practice.selection import Candidate, ChosenItem, nearest_needed, select_items
from practicegen.practice.shortfall import nothing_made, shortfall_warnings

Progress = Callable[[int, str], Awaitable[None]]


async def no_progress(_percent: int, _message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class GapRequest:
    """What the bank could not supply: `count` items, preferring `skills`, near `difficulty`.

    `theta` is the student's ability estimate and `theta_variance` its uncertainty, which
    together predict their success on what is generated (see `learner.expected_p_correct`).
    """

    tenant_id: uuid.UUID
    subject: str
    topic: str | None
    skills: Sequence[str]
    count: int
    difficulty: float
    theta: float
    theta_variance: float
    target_p: float
    avoid_fingerprints: frozenset[str]
    bank_version: int | None = None  # the tenant's, when planning read it


@dataclass(slots=True)
class Filled:
    """What a filler made: verified items (unsaved), and a report for the job's metadata.

    `unproduced` names, per skill, the items it could not make (the assignment warns of them).
    """

    items: list[tuple[Item, ChosenItem]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    unproduced: dict[str, int] = field(default_factory=dict)


class GapFiller(Protocol):
    """Makes verified items for what the bank lacks; they stay unsaved until the plan is."""

    def covers(self, subject: str, topic: str | None) -> bool: ...

    def unchecked(self, subject: str) -> bool:
        """Whether what it writes for `subject` would be accepted on self-consistency alone, which
        a tenant requiring a check model refuses (`tenants.service.requires_check_model`)."""
        ...

    async def fill(self, session: AsyncSession, gap: GapRequest, progress: Progress) -> Filled: ...


@dataclass(frozen=True, slots=True)
class Checked:
    """A request found valid, with what checking it already read.

    Checking that the student exists reads, in the same round trip, their ability per practised
    skill and the (item id, fingerprint) of their recent items: planning needs both.
    """

    skills: list[str]
    items: SubjectItems
    groups: list[GroupKey]
    fillable: bool
    abilities: dict[str, SkillState]
    recent: list[tuple[uuid.UUID, str]]
    bank_version: int
    missing: str = MODEL_SETTING  # what a generator would need to write what the bank lacks


async def check_request(
    session: AsyncSession,
    *,
    principal: Principal,
    request: AssignRequest,
    settings: Settings,
    filler: GapFiller | None = None,
    cache: CandidateCache | None = None,
) -> Checked:
    """Raise the request's first problem as a clear error, reading the student for planning."""
    _check_access_and_size(principal, request, settings)
    tenant = principal.tenant_id
    student = await PracticeRepository(session).student_context(
        tenant, request.student_id, settings.recent_assignments_window
    )
    if student is None:
        raise StudentNotFound(student_id=str(request.student_id))
    skills, items, groups, missing = await _check_content(
        session, tenant, request, filler, cache, bank_version=student.bank_version
    )
    return Checked(
        skills=skills,
        items=items,
        groups=groups,
        fillable=missing is None,
        abilities={row.skill: SkillState(row.theta, row.responses_n) for row in student.skills},
        recent=student.recent,
        bank_version=student.bank_version,
        missing=missing or MODEL_SETTING,
    )


async def check_request_content(
    session: AsyncSession,
    *,
    principal: Principal,
    request: AssignRequest,
    settings: Settings,
    filler: GapFiller | None = None,
    cache: CandidateCache | None = None,
) -> None:
    """Every check of `check_request` but the student's existence, without reading the student.

    The async endpoint calls this: the job's own INSERT checks that the student exists.
    """
    _check_access_and_size(principal, request, settings)
    await _check_content(session, principal.tenant_id, request, filler, cache)


def _check_access_and_size(
    principal: Principal, request: AssignRequest, settings: Settings
) -> None:
    principal.require_student_access(request.student_id)
    if not 1 <= request.num_items <= settings.max_num_items:
        raise NumItemsOutOfRange(
            f"num_items must be between 1 and {settings.max_num_items}.",
            num_items=request.num_items,
            minimum=1,
            maximum=settings.max_num_items,
        )


async def _check_content(
    session: AsyncSession,
    tenant: uuid.UUID,
    request: AssignRequest,
    filler: GapFiller | None,
    cache: CandidateCache | None,
    *,
    bank_version: int | None = None,
) -> tuple[list[str], SubjectItems, list[GroupKey], str | None]:
    """The goal tags, subject and topic name something, and enough can be found or made.

    Returns, last, None when `filler` may write what the bank lacks, else the setting it would
    need. `bank_version`: the tenant's, if the caller read it already."""
    skills = await skills_for_goal_tags(
        session, tenant_id=tenant, subject=request.subject, goal_tags=request.goal_tags
    )
    bank = cache or CandidateCache(max_age_s=0)
    items = await bank.active_items(session, tenant, request.subject, version=bank_version)
    groups = items.keys_for(topic=request.topic, skills=skills)
    available = sum(len(items.groups[key]) for key in groups)
    missing = await missing_generator(session, tenant, request, filler, available)
    if missing is not None:
        if not groups and missing == MODEL_SETTING:  # a model could write any subject's items
            await explain_empty(session, tenant, request)
        if available < request.num_items:
            raise unavailable(request, available, missing)
    return skills, items, groups, missing


@dataclass(frozen=True, slots=True)
class Plan:
    """An assignment decided but not yet stored; making it writes nothing."""

    tenant_id: uuid.UUID
    request: AssignRequest
    chosen: list[ChosenItem]
    new_items: list[Item]
    warnings: list[str]
    generation: dict[str, Any] = field(default_factory=dict)


async def plan_assignment(
    session: AsyncSession,
    *,
    principal: Principal,
    request: AssignRequest,
    settings: Settings,
    filler: GapFiller | None = None,
    cache: CandidateCache | None = None,
    progress: Progress = no_progress,
    rng: random.Random | None = None,
) -> Plan:
    """Check, read and choose (generating what the bank lacks) without writing anything.

    Keeping the slow part free of writes means a job holds no write transaction, and so no
    lock, while it generates; `store_assignment` writes the result in one short transaction.
    """
    await progress(5, "Reading the item bank...")
    checked = await check_request(
        session,
        principal=principal,
        request=request,
        settings=settings,
        filler=filler,
        cache=cache,
    )
    tenant, skills = principal.tenant_id, checked.skills
    abilities, recent = checked.abilities, checked.recent
    await progress(15, "Selecting items at the right difficulty...")
    candidates = _near_targets(checked, settings, request.num_items)
    chosen, warnings = _select(candidates, abilities, request, settings, skills, recent, rng)
    filled = Filled()
    missing = request.num_items - len(chosen)
    if missing and (filler is None or not checked.fillable):
        raise unavailable(request, len(chosen), checked.missing)
    if missing and filler is not None:
        taken = {c.item_id for c in chosen}
        prints = frozenset(c.fingerprint for c in candidates if c.item_id in taken)
        gap = _gap(request, tenant, checked, chosen, settings, missing, prints)
        filled = await filler.fill(session, gap, progress)
        chosen = chosen + [c for _, c in filled.items]
        if not chosen:
            skills = list(gap.skills) or sorted(filled.unproduced)
            message, details = nothing_made(request, skills, filled.report)
            raise GenerationFailed(message, **details)
    warnings += shortfall_warnings(filled.unproduced, len(chosen), request.num_items)
    new_items = [item for item, _ in filled.items]
    return Plan(tenant, request, chosen, new_items, warnings, filled.report)


async def store_assignment(session: AsyncSession, plan: Plan) -> Assignment:
    """Write the plan's generated items and the assignment (the caller commits)."""
    if plan.new_items:
        await ItemRepository(session).add_all(plan.new_items)
    return await _store(
        PracticeRepository(session),
        plan.tenant_id,
        plan.request,
        plan.chosen,
        len(plan.new_items),
        plan.warnings,
    )


def _near_targets(checked: Checked, settings: Settings, num_items: int) -> list[Candidate]:
    """Each skill's items nearest the difficulty this student should succeed at `target_success`.

    Enough that selection finds its whole shortlist here even if every recent item falls among
    them, and no more: ranking costs CPU per candidate.
    """
    reach = nearest_needed(num_items) + len(checked.recent)
    pool: list[Candidate] = []
    for key in checked.groups:
        center = aim(skill_state(checked.abilities, key[1]), settings.target_success)
        pool += checked.items.nearest(key, center, reach)
    return pool


def _select(
    pool: list[Candidate],
    abilities: dict[str, SkillState],
    request: AssignRequest,
    settings: Settings,
    skills: list[str],
    recent: list[tuple[uuid.UUID, str]],
    rng: random.Random | None,
) -> tuple[list[ChosenItem], list[str]]:
    """Select avoiding recent items; if that leaves the list short, allow repeats and say so."""
    rng = rng or random.Random()
    fresh = select_items(
        pool,
        abilities,
        request.num_items,
        rng=rng,
        target_p=settings.target_success,
        required_skills=skills,
        recent_item_ids={i for i, _ in recent},
        recent_fingerprints={f for _, f in recent},
    )
    warnings: list[str] = []
    chosen = list(fresh.chosen)
    if fresh.shortfall and recent:
        taken = {c.item_id for c in chosen}
        again = select_items(
            [c for c in pool if c.item_id not in taken],
            abilities,
            fresh.shortfall,
            rng=rng,
            target_p=settings.target_success,
            required_skills=fresh.uncovered_skills,
            recent_fingerprints={c.fingerprint for c in pool if c.item_id in taken},
        )
        if again.chosen:
            warnings.append(f"{len(again.chosen)} item(s) repeat recent practice.")
            chosen = sorted(chosen + again.chosen, key=lambda c: -c.predicted_success)
    uncovered = sorted(set(skills) - {c.skill for c in chosen})
    if uncovered:
        warnings.append(f"No items for goal skills: {', '.join(uncovered)}.")
    return chosen, warnings


def _gap(
    request: AssignRequest,
    tenant: uuid.UUID,
    checked: Checked,
    chosen: list[ChosenItem],
    settings: Settings,
    missing: int,
    chosen_prints: frozenset[str],
) -> GapRequest:
    skills, abilities = checked.skills, checked.abilities
    wanted = [s for s in skills if s not in {c.skill for c in chosen}] or skills
    states = [skill_state(abilities, s) for s in wanted] or list(abilities.values())
    states = states or [SkillState(0.0)]
    target = settings.target_success
    theta = sum(state.theta for state in states) / len(states)
    variance = sum(ability_variance(state, target) for state in states) / len(states)
    return GapRequest(
        tenant_id=tenant,
        subject=request.subject,
        topic=request.topic,
        skills=wanted,
        count=missing,
        difficulty=target_difficulty(theta, target, variance),
        theta=theta,
        theta_variance=variance,
        target_p=settings.target_success,
        avoid_fingerprints=frozenset(f for _, f in checked.recent) | chosen_prints,
        bank_version=checked.bank_version,
    )


async def _store(
    practice: PracticeRepository,
    tenant: uuid.UUID,
    request: AssignRequest,
    chosen: list[ChosenItem],
    generated: int,
    warnings: list[str],
) -> Assignment:
    assignment = Assignment(
        id=uuid.uuid4(),
        tenant_id=tenant,
        student_id=request.student_id,
        subject=request.subject,
        topic=request.topic,
        num_items=request.num_items,
        goal_tags=[str(t) for t in request.goal_tags],
        warnings=warnings,
        bank_count=len(chosen) - generated,
        generated_count=generated,
        created_at=utcnow(),
    )
    links = [
        ItemLink(
            assignment_id=assignment.id,
            position=position,
            item_id=c.item_id,
            skill=c.skill,
            predicted_success=c.predicted_success,
            reason=c.reason,
        )
        for position, c in enumerate(chosen, start=1)
    ]
    await practice.insert_assignment(assignment, links)
    return assignment
