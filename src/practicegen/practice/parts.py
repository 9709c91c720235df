"""The node's objects the practice routes hand to their services: built once by the lifespan
(`app.py`) and reached as `container.part(PracticeParts)`."""

from __future__ import annotations

from dataclasses import dataclass

from practicegen.items.candidates import CandidateCache
from practicegen.jobs.store import JobStore
from practicegen.ports import GapFiller
from practicegen.webhooks.ssrf import AddressGuard


@dataclass(frozen=True, slots=True)
class PracticeParts:
    filler: GapFiller | None  # the sync path's: instant generators only
    job_filler: GapFiller | None  # a job's: the language model when one is configured
    cache: CandidateCache
    store: JobStore
    guard: AddressGuard
