"""The catalogue as `GET /api/v1/catalog` answers it: subjects -> topics -> skills."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Generation(StrEnum):
    """What can write more items of a skill, topic or subject than the bank holds."""

    OFFLINE = "offline"  # the procedural generators, on this node, with no model
    MODEL = "model"  # only the configured language model
    BANK = "bank"  # nothing: only the bank's items can be assigned


class SkillEntry(BaseModel):
    skill: str = Field(examples=["linear_equations.two_step"])
    description: str | None = Field(
        description="What the skill asks of a student; null for a skill known only from the bank."
    )
    levels: int | None = Field(
        description="The generator's difficulty levels; null for a skill it does not write."
    )
    item_count: int = Field(description="Active items of this skill in the tenant's bank.")
    generation: Generation


class TopicEntry(BaseModel):
    name: str = Field(examples=["Linear Equations"])
    item_count: int
    generation: Generation = Field(
        description="`offline` when a procedural generator writes any of its skills."
    )
    skills: list[SkillEntry]


class SubjectEntry(BaseModel):
    name: str = Field(examples=["Algebra"])
    item_count: int
    generation: Generation
    topics: list[TopicEntry]


class CatalogRead(BaseModel):
    """Names are the canonical spellings: any other casing of them is accepted wherever a
    subject or topic is (`algebra` is `Algebra`)."""

    model_configured: bool = Field(
        description="A language model is configured: it may also write items for subjects and "
        "topics listed nowhere here, in a job."
    )
    subjects: list[SubjectEntry]
