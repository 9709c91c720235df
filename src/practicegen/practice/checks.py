"""Checking an assign request against the tenant's data, before anything is planned or queued.

The sync path checks everything and reads the student for planning in the same round trip
(`check_request`); the async path checks all but the student, whose existence the job's own
INSERT checks (`check_request_content`). Each problem is raised as a clear error of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.config import Settings
from practicegen.errors import NumItemsOutOfRange, StudentNotFound
from practicegen.goals.service import skills_for_goal_tags
from practicegen.items.candidates import CandidateCache, GroupKey, SubjectItems
from practicegen.ports import GapFiller
from practicegen.practice.availability import (
    MODEL_SETTING,
    explain_empty,
    missing_generator,
    unavailable,
)
from practicegen.practice.learner import SkillState
from practicegen.practice.repository import PracticeRepository
from practicegen.practice.schemas import AssignRequest


@dataclass(frozen=True, slots=True)
class Assigning:
    """One assign request and what serving it uses: who asks, the node's settings, the bank's
    cache, and the filler that may write what the bank lacks (None: nothing may)."""

    principal: Principal
    request: AssignRequest
    settings: Settings
    cache: CandidateCache
    filler: GapFiller | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A request found valid, with what checking it already read.

    Checking that the student exists reads, in the same round trip, their ability per practised
    skill and the (item id, fingerprint) of their recent items: planning needs both.
    """

    skills: list[str]
    items: SubjectItems
    groups: list[GroupKey]
    abilities: dict[str, SkillState]
    recent: list[tuple[uuid.UUID, str]]
    bank_version: int
    missing: str | None  # what the filler would need to write what the bank lacks; None: nothing


async def check_request(session: AsyncSession, ask: Assigning) -> Checked:
    """Raise the request's first problem as a clear error, reading the student for planning."""
    _check_access_and_size(ask)
    request = ask.request
    student = await PracticeRepository(session).student_context(
        ask.principal.tenant_id, request.student_id, ask.settings.recent_assignments_window
    )
    if student is None:
        raise StudentNotFound(student_id=str(request.student_id))
    skills, items, groups, missing = await _check_content(session, ask, student.bank_version)
    return Checked(
        skills=skills,
        items=items,
        groups=groups,
        abilities=student.abilities,
        recent=student.recent,
        bank_version=student.bank_version,
        missing=missing,
    )


async def check_request_content(session: AsyncSession, ask: Assigning) -> None:
    """Every check of `check_request` but the student's existence, without reading the student.

    The async endpoint calls this: the job's own INSERT checks that the student exists.
    """
    _check_access_and_size(ask)
    await _check_content(session, ask)


def _check_access_and_size(ask: Assigning) -> None:
    ask.principal.require_student_access(ask.request.student_id)
    maximum = ask.settings.max_num_items
    if not 1 <= ask.request.num_items <= maximum:
        raise NumItemsOutOfRange(
            f"num_items must be between 1 and {maximum}.",
            num_items=ask.request.num_items,
            minimum=1,
            maximum=maximum,
        )


async def _check_content(
    session: AsyncSession, ask: Assigning, bank_version: int | None = None
) -> tuple[list[str], SubjectItems, list[GroupKey], str | None]:
    """The goal tags, subject and topic name something, and enough can be found or made.

    Returns, last, None when the filler may write what the bank lacks, else the setting it would
    need. `bank_version`: the tenant's, if the caller read it already."""
    tenant, request = ask.principal.tenant_id, ask.request
    skills = await skills_for_goal_tags(
        session, tenant_id=tenant, subject=request.subject, goal_tags=request.goal_tags
    )
    items = await ask.cache.active_items(session, tenant, request.subject, version=bank_version)
    groups = items.keys_for(topic=request.topic, skills=skills)
    available = sum(len(items.groups[key]) for key in groups)
    missing = await missing_generator(session, tenant, request, ask.filler, available)
    if missing is not None:
        if not groups and missing == MODEL_SETTING:  # a model could write any subject's items
            await explain_empty(session, tenant, request)
        if available < request.num_items:
            raise unavailable(request, available, missing)
    return skills, items, groups, missing
