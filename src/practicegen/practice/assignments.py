"""Building an assignment, for both the sync and the async assign: `plan_assignment` checks,
reads, selects and generates, writing nothing; `store_assignment` stores the plan.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.config import Settings
from practicegen.db.models import Assignment, Item
from practicegen.items.repository import ItemRepository
from practicegen.ports import Candidate, ChosenItem, Filled, GapRequest, Progress, no_progress
from practicegen.practice.checks import (
    Assigning,
    Checked,
    GenerationFailed,
    check_request,
    nothing_made,
    shortfall_warnings,
    unavailable,
)
from practicegen.practice.learner import (
    SkillState,
    ability_variance,
    aim,
    expected_p_correct,
    skill_state,
    target_difficulty,
)
from practicegen.practice.repository import ItemFace, ItemLink, PracticeRepository
from practicegen.practice.review import ReviewRule, due_reviews, review_choices
from practicegen.practice.schemas import AssignRequest
from practicegen.practice.selection import nearest_needed, select_items


@dataclass(frozen=True, slots=True)
class Plan:
    """An assignment decided but not yet stored; `faces` is what it shows of each item."""

    tenant_id: uuid.UUID
    request: AssignRequest
    chosen: list[ChosenItem]
    new_items: list[Item]
    warnings: list[str]
    faces: dict[uuid.UUID, Item | ItemFace]
    generation: dict[str, Any] = field(default_factory=dict)


async def plan_assignment(
    session: AsyncSession, ask: Assigning, progress: Progress = no_progress
) -> Plan:
    """Check, read, choose and generate in a session that only reads: no lock while generating."""
    await progress(5, "Reading the item bank...")
    checked = await check_request(session, ask)
    request, settings, filler = ask.request, ask.settings, ask.filler
    await progress(15, "Selecting items at the right difficulty...")
    reviews = _due_reviews(ask, checked)
    again = {c.item_id for c in reviews}
    candidates = [
        c for c in _near_targets(checked, settings, request.num_items) if c.item_id not in again
    ]
    chosen, warnings = _select(candidates, checked, request.num_items - len(reviews), settings)
    chosen = sorted(reviews + chosen, key=lambda c: -c.predicted_success)  # easy to hard
    filled = Filled()
    missing = request.num_items - len(chosen)
    if missing and checked.missing is not None:  # which it is when there is no filler
        raise unavailable(request, len(chosen), checked.missing)
    if missing and filler is not None:
        taken = {c.item_id for c in chosen}
        prints = frozenset(c.fingerprint for c in candidates if c.item_id in taken)
        gap = _gap(ask, checked, chosen, missing, prints)
        filled = await filler.fill(session, gap, progress)
        chosen = chosen + [c for _, c in filled.items]
        if not chosen:
            skills = list(gap.skills) or sorted(filled.unproduced)
            message, details = nothing_made(request, skills, filled.report)
            raise GenerationFailed(message, **details)
    warnings += shortfall_warnings(filled.unproduced, len(chosen), request.num_items)
    new_items = [item for item, _ in filled.items]
    faces = await _faces(session, ask, chosen, new_items)
    return Plan(ask.principal.tenant_id, request, chosen, new_items, warnings, faces, filled.report)


async def store_assignment(session: AsyncSession, plan: Plan, now: datetime) -> Assignment:
    """Write the plan's generated items and the assignment, made at `now` (the caller commits)."""
    if plan.new_items:  # inserted with the assignment
        await ItemRepository(session).bump_bank_version(plan.tenant_id)
    request, generated = plan.request, len(plan.new_items)
    assignment = Assignment(
        id=uuid.uuid4(),
        tenant_id=plan.tenant_id,
        **request.model_dump(include={"student_id", "subject", "topic", "num_items"}),
        goal_tags=[str(t) for t in request.goal_tags],
        warnings=plan.warnings,
        bank_count=len(plan.chosen) - generated,
        generated_count=generated,
        created_at=now,
    )
    links = [
        ItemLink(assignment.id, position, c.item_id, c.skill, c.predicted_success, c.reason)
        for position, c in enumerate(plan.chosen, start=1)
    ]
    await PracticeRepository(session).insert_assignment(assignment, links, plan.new_items)
    return assignment


async def _faces(
    session: AsyncSession, ask: Assigning, chosen: list[ChosenItem], new_items: list[Item]
) -> dict[uuid.UUID, Item | ItemFace]:
    """What the assignment shows of its items, read while planning so the write is only inserts."""
    faces: dict[uuid.UUID, Item | ItemFace] = {item.id: item for item in new_items}
    tenant = ask.principal.tenant_id
    bank_ids = [c.item_id for c in chosen if c.item_id not in faces]
    read = partial(PracticeRepository(session).item_faces, tenant)
    return faces | await ask.cache.faces(tenant, ask.request.subject, bank_ids, read)


def _due_reviews(ask: Assigning, checked: Checked) -> list[ChosenItem]:
    """The student's items due for review that this request may choose (`review.py`)."""
    rule = ReviewRule(ask.settings.review_spacing_s, ask.settings.review_rounds)
    if not (due := due_reviews(checked.student.reviews, rule, ask.now)):
        return []
    fitting = (c for key in checked.groups for c in checked.items.groups[key])
    return review_choices(due, fitting, checked.student.abilities, ask.request.num_items)


def _near_targets(checked: Checked, settings: Settings, num_items: int) -> list[Candidate]:
    """Each skill's items nearest its target: selection's shortlist, plus room for the recent."""
    reach = nearest_needed(num_items) + len(checked.student.recent)
    pool: list[Candidate] = []
    for key in checked.groups:
        center = aim(skill_state(checked.student.abilities, key[1]), settings.target_success)
        pool += checked.items.nearest(key, center, reach)
    return pool


def _select(
    pool: list[Candidate], checked: Checked, num_items: int, settings: Settings
) -> tuple[list[ChosenItem], list[str]]:
    """Select avoiding recent items; if that leaves the list short, allow repeats and say so."""
    choose = partial(select_items, rng=random.Random(), target_p=settings.target_success)
    recent = checked.student.recent
    fresh = choose(
        pool,
        checked.student.abilities,
        num_items,
        required_skills=checked.skills,
        recent_item_ids={i for i, _ in recent},
        recent_fingerprints={f for _, f in recent},
    )
    warnings: list[str] = []
    chosen = list(fresh.chosen)
    if fresh.shortfall and recent:
        taken = {c.item_id for c in chosen}
        again = choose(
            [c for c in pool if c.item_id not in taken],
            checked.student.abilities,
            fresh.shortfall,
            required_skills=fresh.uncovered_skills,
            recent_fingerprints={c.fingerprint for c in pool if c.item_id in taken},
        )
        if again.chosen:
            warnings.append(f"{len(again.chosen)} item(s) repeat recent practice.")
            chosen = sorted(chosen + again.chosen, key=lambda c: -c.predicted_success)
    uncovered = sorted(set(checked.skills) - {c.skill for c in chosen})
    if uncovered:
        warnings.append(f"No items for goal skills: {', '.join(uncovered)}.")
    return chosen, warnings


def _gap(
    ask: Assigning,
    checked: Checked,
    chosen: list[ChosenItem],
    missing: int,
    chosen_prints: frozenset[str],
) -> GapRequest:
    skills, abilities = checked.skills, checked.student.abilities
    wanted = [s for s in skills if s not in {c.skill for c in chosen}] or skills
    states = [skill_state(abilities, s) for s in wanted] or list(abilities.values())
    states = states or [SkillState(0.0)]
    target = ask.settings.target_success
    theta = sum(state.theta for state in states) / len(states)
    variance = sum(ability_variance(state, target) for state in states) / len(states)
    return GapRequest(
        tenant_id=ask.principal.tenant_id,
        subject=ask.request.subject,
        topic=ask.request.topic,
        skills=wanted,
        count=missing,
        difficulty=target_difficulty(theta, target, variance),
        predict=partial(expected_p_correct, theta, variance=variance),
        target_p=target,
        avoid_fingerprints=frozenset(f for _, f in checked.student.recent) | chosen_prints,
        bank_version=checked.student.bank_version,
    )
