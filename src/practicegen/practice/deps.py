"""What the practice routes use of what the app holds, read from the app in one dependency.

One dependency rather than one per object: FastAPI resolves each dependency of each request on
its own, at a cost per request. The app's objects are built once, in its lifespan (`app.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.items.candidates import CandidateCache
from practicegen.jobs.store import JobStore
from practicegen.ports import GapFiller
from practicegen.practice.grading_lane import GradingLane
from practicegen.webhooks.ssrf import AddressGuard


@dataclass(frozen=True, slots=True)
class Held:
    """The app's objects a practice route passes to its service function."""

    settings: Settings
    sessionmaker: SessionMaker
    filler: GapFiller | None  # the sync path's: instant generators only
    job_filler: GapFiller | None  # a job's: the language model when one is configured
    cache: CandidateCache
    store: JobStore
    guard: AddressGuard
    lane: GradingLane


async def get_held(request: Request) -> Held:
    state = request.app.state
    return Held(
        settings=state.settings,
        sessionmaker=state.sessionmaker,
        filler=state.filler,
        job_filler=state.job_filler,
        cache=state.candidate_cache,
        store=state.job_store,
        guard=state.address_guard,
        lane=state.grading_lane,
    )


HeldDep = Annotated[Held, Depends(get_held)]
