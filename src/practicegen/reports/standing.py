"""A skill's standing from the learner model's estimate: the chance on a typical item, and
whether that is mastery by the documented rule. Pure."""

from __future__ import annotations

from datetime import datetime

from practicegen.practice.learner import p_correct
from practicegen.reports.schemas import MasteryRule, SkillStanding


def standing(
    skill: str,
    theta: float,
    answered: int,
    last_practised: datetime,
    typical_difficulty: float,
    rule: MasteryRule,
) -> SkillStanding:
    chance = p_correct(theta, typical_difficulty)
    return SkillStanding(
        skill=skill,
        ability=round(theta, 3),
        typical_success=round(chance, 3),
        answered=answered,
        last_practised=last_practised,
        mastered=answered >= rule.min_answers and chance >= rule.success,
    )
