"""Request and response bodies for assignments and answers (the guide's practice contract)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field


class PracticeAsk(BaseModel):
    """What practice to assign, whoever it is for."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=100, examples=["Algebra"])
    topic: str | None = Field(
        default=None, min_length=1, max_length=100, examples=["Linear Equations"]
    )
    num_items: int = Field(
        strict=True, description="1 up to the configured maximum (20 by default)."
    )
    goal_tags: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="Goal ids whose skills to cover."
    )


class AssignRequest(PracticeAsk):
    """The guide's `POST /api/v1/practice/assign` body."""

    student_id: uuid.UUID


class AsyncAssignRequest(AssignRequest):
    """The guide's async request: the sync request plus an optional webhook URL."""

    webhook_url: AnyHttpUrl | None = Field(default=None, max_length=2000)


class ChoiceRead(BaseModel):
    id: str
    text: str
    misconception: str | None = Field(
        default=None, description="Only for server keys: the error a distractor reveals."
    )


class ResponseSummary(BaseModel):
    response_id: uuid.UUID
    answer: str
    correct: bool
    feedback_code: str
    created_at: datetime


class AssignedItem(BaseModel):
    """One item of an assignment. Keys and solutions are null for student tokens."""

    position: int
    item_id: uuid.UUID
    subject: str
    topic: str
    skill: str
    type: str
    stem: str
    choices: list[ChoiceRead]
    hints: list[str]
    difficulty: float
    source: str
    predicted_success: float
    reason: str
    answer: str | None = None
    answer_policy: str
    solution: str | None = None
    response: ResponseSummary | None = None


class AssignmentRead(BaseModel):
    assignment_id: uuid.UUID
    student_id: uuid.UUID
    subject: str
    topic: str | None
    goal_tags: list[uuid.UUID]
    num_items: int
    items: list[AssignedItem]
    bank_count: int
    generated_count: int
    warnings: list[str]
    created_at: datetime


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1, strict=True, description="Which item of the assignment (1-based).")
    answer: str = Field(max_length=2000)


class ResponseRead(BaseModel):
    response_id: uuid.UUID
    assignment_id: uuid.UUID
    position: int
    item_id: uuid.UUID
    correct: bool
    feedback_code: str
    message: str
    predicted_success: float = Field(description="The model's estimate before this answer.")
    skill: str
    ability: float = Field(description="The student's ability on this skill after the update.")
    correct_answer: str
    solution: str | None
    created_at: datetime
