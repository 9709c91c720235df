"""Request and response bodies for students."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class StudentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Your own id for the student."
    )
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    grade_level: int | None = Field(default=None, ge=0, le=20, strict=True)
    metadata: dict[str, Any] = Field(default_factory=dict)


class StudentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    grade_level: int | None = Field(default=None, ge=0, le=20, strict=True)
    metadata: dict[str, Any] | None = None


class StudentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    student_id: uuid.UUID = Field(validation_alias=AliasChoices("student_id", "id"))
    external_id: str | None
    display_name: str | None
    grade_level: int | None
    # a row's `metadata` is its table's; the column is `metadata_`
    metadata: dict[str, Any] = Field(validation_alias=AliasChoices("metadata_", "metadata"))
    created_at: datetime
    updated_at: datetime
