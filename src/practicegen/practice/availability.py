"""Whether what an assign asks for can be found or made, and what is said when it cannot.

A request the bank cannot cover needs a generator that covers it: the procedural generators,
or a language model for a job. A tenant may further refuse a model's multiple-choice questions
checked only by the writer's self-consistency (`tenants.service.requires_check_model`); on a
node without a check model such a request is then unavailable too, naming the setting that
would make it available.

A partial assignment is still worth giving, so it completes with the shortfall named in its
`warnings` (and, for a job, in `metadata.generation`). One with no item at all fails with
`generation_failed`, naming the subject, the skills and why each generated question was
rejected, so the cause (a model that writes only unusable drafts, say) can be seen and fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.errors import InvalidRequest, UnknownSubject
from practicegen.items.repository import ItemRepository
from practicegen.practice.schemas import AssignRequest
from practicegen.tenants.service import requires_check_model

if TYPE_CHECKING:
    from practicegen.ports import GapFiller

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
    """The generators that cover the request made nothing usable (`nothing_made`).
    A kind of unavailability: the sync endpoint hands it to a job when a job's generator (a
    language model) could still write the items."""

    code = "generation_failed"
    default_message = "No item could be generated for this request."


async def missing_generator(
    session: AsyncSession,
    tenant: uuid.UUID,
    request: AssignRequest,
    filler: GapFiller | None,
    available: int,
) -> str | None:
    """None if `filler` may write for this request, else the setting it lacks: a language model,
    or a check model the tenant requires for what self-consistency alone would accept.

    The tenant's policy is read only when the bank cannot cover the request, so an assign the
    bank serves costs no query for it; should planning still need the filler, the filler reads
    the policy itself (`LlmFiller.fill`)."""
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
    """The message and details of `GenerationFailed` for an assignment left empty: what was
    asked, and why nothing passed."""
    llm = report.get("llm", {})
    rejections: dict[str, int] = dict(llm.get("rejections", {}))
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
