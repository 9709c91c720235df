"""What an assignment says when the bank and the generators cannot supply every item asked for.

A partial assignment is still worth giving, so it completes with the shortfall named in its
`warnings` (and, for a job, in `metadata.generation`). An assignment with no item at all is
worth nothing to a student: it fails instead with `generation_failed` (`GenerationFailed` in
`availability`, raised by `assignments`), naming the subject, the skills and why each
generated question was rejected, so the cause (a model that writes only unusable drafts, say)
can be seen and fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from practicegen.practice.schemas import AssignRequest


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
    where = request.subject + (f" / {request.topic}" if request.topic else "")
    llm = report.get("llm", {})
    rejections: dict[str, int] = dict(llm.get("rejections", {}))
    why = ", ".join(f"{reason}: {n}" for reason, n in sorted(rejections.items()))
    drafts = f"{sum(rejections.values())} generated question(s) rejected ({why})" if why else ""
    message = (
        f"No item could be assigned for {where} (skills: {', '.join(skills) or 'any'}): "
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
