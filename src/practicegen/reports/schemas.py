"""Response bodies of the reports."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class MasteryRule(BaseModel):
    """Mastered: the chance of answering a typical item of the skill (one of the skill's mean
    difficulty in the bank) is at least `success`, after at least `min_answers` answers."""

    success: float
    min_answers: int


class SkillStanding(BaseModel):
    skill: str
    ability: float  # the learner model's theta, on the items' logit scale
    typical_success: float
    answered: int
    last_practised: datetime
    mastered: bool


class Mastery(BaseModel):
    student_id: uuid.UUID
    rule: MasteryRule
    skills: list[SkillStanding]


class AssignmentSummary(BaseModel):
    assignment_id: uuid.UUID
    subject: str
    topic: str | None
    num_items: int
    answered: int
    correct: int
    created_at: datetime


class ReportRow(BaseModel):
    student_id: uuid.UUID
    display_name: str | None
    external_id: str | None
    skills: dict[str, SkillStanding]  # only the skills the student has practised


class ClassReport(BaseModel):
    class_id: uuid.UUID
    name: str
    rule: MasteryRule
    skills: list[str]  # every skill any student of the class has practised, sorted
    students: list[ReportRow]
