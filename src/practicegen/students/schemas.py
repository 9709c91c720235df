"""Request and response bodies for students."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from practicegen.db.models import Student


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
    student_id: uuid.UUID
    external_id: str | None
    display_name: str | None
    grade_level: int | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Student) -> StudentRead:
        return cls(
            student_id=row.id,
            external_id=row.external_id,
            display_name=row.display_name,
            grade_level=row.grade_level,
            metadata=row.metadata_,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
