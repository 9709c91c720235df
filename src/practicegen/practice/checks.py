"""Checking an assign request before anything is planned or queued, each problem a clear error:
what the bank cannot cover needs a generator (and, if the tenant requires one, a check model);
the 422 names the missing setting.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.clock import utcnow
from practicegen.config import Settings
from practicegen.errors import InvalidRequest, NumItemsOutOfRange, StudentNotFound, UnknownSubject
from practicegen.goals.service import skills_for_goal_tags
from practicegen.items.candidates import CandidateCache, GroupKey, SubjectItems
from practicegen.items.repository import ItemRepository
from practicegen.ports import GapFiller
from practicegen.practice.repository import PracticeRepository, StudentContext
from practicegen.practice.schemas import AssignRequest
from practicegen.tenants.service import requires_check_model

MODEL_SETTING = "PRACTICEGEN_LLM_BASE_URL"
CHECK_MODEL_SETTING = "PRACTICEGEN_LLM_CHECK_MODEL"


class UnknownTopic(InvalidRequest):
    code = "unknown_topic"
    default_message = "No items or generators exist for this topic of the subject."


class GenerationUnavailable(InvalidRequest):
    code = "generation_unavailable"
    default_message = (
        "The bank lacks items for this request and no configured generator can write them."
    )


class GenerationFailed(GenerationUnavailable):
    """Nothing usable was made (`nothing_made`); the sync endpoint may hand it to a job."""

    code = "generation_failed"
    default_message = "No item could be generated for this request."


@dataclass(frozen=True, slots=True)
class Assigning:
    """One assign request and what serving it uses (`filler` None: nothing may write)."""

    principal: Principal
    request: AssignRequest
    settings: Settings
    cache: CandidateCache
    filler: GapFiller | None = None
    now: datetime = field(default_factory=utcnow)  # decides which reviews are due


@dataclass(frozen=True, slots=True)
class Checked:
    """A request found valid, with what checking it read."""

    skills: list[str]
    items: SubjectItems
    groups: list[GroupKey]
    student: StudentContext
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
    return Checked(skills, items, groups, student, missing)


async def check_request_content(
    session: AsyncSession, ask: Assigning, *, version_unread: bool = False
) -> int | None:
    """Every check of `check_request` but the student's, which the job's own INSERT makes.
    With `version_unread`, kept items are checked without reading the bank's version, and that
    version is returned for the job's INSERT to find still current (None: nothing to find)."""
    _check_access_and_size(ask)
    if not version_unread:
        await _check_content(session, ask)
        return None
    tenant, subject = ask.principal.tenant_id, ask.request.subject
    items, version = await ask.cache.active_items_unread(session, tenant, subject)
    await _check_content(session, ask, items=items)
    return version


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
    session: AsyncSession,
    ask: Assigning,
    bank_version: int | None = None,
    items: SubjectItems | None = None,
) -> tuple[list[str], SubjectItems, list[GroupKey], str | None]:
    """Check the goal tags, subject, topic and supply (of `items` if given, else the cache's);
    last, the setting the filler would need."""
    tenant, request = ask.principal.tenant_id, ask.request
    skills = await skills_for_goal_tags(
        session, tenant_id=tenant, subject=request.subject, goal_tags=request.goal_tags
    )
    if items is None:
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


async def missing_generator(
    session: AsyncSession,
    tenant: uuid.UUID,
    request: AssignRequest,
    filler: GapFiller | None,
    available: int,
) -> str | None:
    """None if `filler` may write for this request, else the setting it lacks; the tenant's
    policy is read only when the bank falls short, so a bank-served assign costs no query."""
    if filler is None or not filler.covers(request.subject, request.topic):
        return MODEL_SETTING
    if available >= request.num_items or not filler.unchecked(request.subject):
        return None
    return CHECK_MODEL_SETTING if await requires_check_model(session, tenant) else None


def unavailable(
    request: AssignRequest, available: int, missing: str = MODEL_SETTING
) -> GenerationUnavailable:
    lacking = (
        "no procedural generator covers it and no language model is configured"
        if missing == MODEL_SETTING
        else "this tenant requires a second model to agree with every multiple-choice key "
        "and no check model is configured"
    )
    return GenerationUnavailable(
        f"The bank has {available} fitting item(s) for {_where(request)}, {request.num_items} were "
        f"asked for, and no generator can write the rest: {lacking} ({missing}).",
        available=available,
        requested=request.num_items,
        missing=missing,
    )


async def explain_empty(session: AsyncSession, tenant: uuid.UUID, request: AssignRequest) -> None:
    """Nothing to choose from and nothing to generate with: say which part of the request is off."""
    items = ItemRepository(session)
    subjects = await items.subjects(tenant)
    if request.subject not in subjects:
        raise UnknownSubject(
            f"No items or generators exist for the subject {request.subject!r}.",
            subject=request.subject,
            known_subjects=sorted(subjects),
        )
    if request.topic is not None:
        topics = await items.topics(tenant, request.subject)
        if request.topic not in topics:
            raise UnknownTopic(
                f"The subject {request.subject!r} has no topic {request.topic!r}.",
                topic=request.topic,
                known_topics=sorted(topics),
            )


def shortfall_warnings(unproduced: Mapping[str, int], chosen: int, wanted: int) -> list[str]:
    warnings = [f"Could not generate {n} item(s) for {s}." for s, n in unproduced.items()]
    if chosen < wanted:
        warnings.append(
            f"Only {chosen} of {wanted} items could be assigned: the bank and "
            "the generators produced no more fitting, verified items."
        )
    return warnings


def nothing_made(
    request: AssignRequest, skills: Sequence[str], report: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """`GenerationFailed`'s message and details: what was asked, and why nothing passed."""
    rejections: dict[str, int] = dict(report.get("llm", {}).get("rejections", {}))
    why = ", ".join(f"{reason}: {n}" for reason, n in sorted(rejections.items()))
    drafts = f"{sum(rejections.values())} generated question(s) rejected ({why})" if why else ""
    message = (
        f"No item could be assigned for {_where(request)} (skills: {', '.join(skills) or 'any'}): "
        f"the bank has none that fit and the generators produced none of the "
        f"{request.num_items} asked for" + (f"; {drafts}." if drafts else ".")
    )
    return message, {
        "subject": request.subject,
        "topic": request.topic,
        "skills": list(skills),
        "requested": request.num_items,
        "rejections": rejections,
        "generation": report,
    }


def _where(request: AssignRequest) -> str:
    return request.subject + (f" / {request.topic}" if request.topic else "")
