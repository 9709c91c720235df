"""Request and response bodies for goals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

SkillId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9_.-]+$")]


class GoalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=100)
    skills: list[SkillId] = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class GoalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    skills: list[SkillId] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class GoalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    goal_id: uuid.UUID = Field(validation_alias=AliasChoices("goal_id", "id"))
    name: str
    subject: str
    skills: list[str]
    description: str | None
    created_at: datetime
    updated_at: datetime
