"""Request and response bodies for classes and their rosters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

_MAX_PER_REQUEST = 1000


class StudentNames(BaseModel):
    """Students named by our id or by yours (`external_id`)."""

    model_config = ConfigDict(extra="forbid")

    student_ids: list[uuid.UUID] = Field(default_factory=list, max_length=_MAX_PER_REQUEST)
    external_ids: list[str] = Field(default_factory=list, max_length=_MAX_PER_REQUEST)


class Members(StudentNames):
    """Students to add to a class: at least one."""

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        if not self.student_ids and not self.external_ids:
            raise ValueError("name at least one student in student_ids or external_ids")
        return self


class ClassCreate(StudentNames):
    """A new class, and the students it starts with (none is fine)."""

    name: str = Field(min_length=1, max_length=200)


class ClassUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class ClassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    class_id: uuid.UUID = Field(validation_alias=AliasChoices("class_id", "id"))
    name: str
    student_count: int
    created_at: datetime
    updated_at: datetime
