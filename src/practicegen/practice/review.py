"""Spaced review: an item answered wrong is due again `spacing_s * 2**k` after it was last
answered, `k` its right answers since its last wrong one, until `rounds` right in a row. Due
items take at most a third of an assignment's places, earliest first, among what the request
may choose; a review is a repeat on purpose, so recency does not hold it back. Pure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from practicegen.ports import Candidate, ChosenItem
from practicegen.practice.learner import SkillState, p_correct, skill_state


@dataclass(frozen=True, slots=True)
class ReviewState:
    """An item the student got wrong at least once."""

    item_id: uuid.UUID
    last_answered: datetime
    right_since_wrong: int


@dataclass(frozen=True, slots=True)
class ReviewRule:
    spacing_s: float
    rounds: int

    def due_at(self, state: ReviewState) -> datetime | None:
        """When the item comes back; None once its review has ended."""
        if state.right_since_wrong >= self.rounds:
            return None
        spacing = timedelta(seconds=self.spacing_s * 2**state.right_since_wrong)
        return _aware(state.last_answered) + spacing


def due_reviews(states: Sequence[ReviewState], rule: ReviewRule, now: datetime) -> list[uuid.UUID]:
    """The items due again at `now`, earliest due first."""
    due = [(at, s.item_id) for s in states if (at := rule.due_at(s)) is not None and at <= now]
    return [item_id for _, item_id in sorted(due)]


def review_places(num_items: int) -> int:
    """How many of an assignment's places due reviews may take."""
    return max(1, num_items // 3)


def review_choices(
    due: Sequence[uuid.UUID],
    candidates: Iterable[Candidate],
    abilities: Mapping[str, SkillState],
    num_items: int,
) -> list[ChosenItem]:
    """The `due` items among `candidates`, earliest first, as many as `review_places` allows."""
    wanted = set(due)
    found = {c.item_id: c for c in candidates if c.item_id in wanted}
    picked = [found[item_id] for item_id in due if item_id in found][: review_places(num_items)]
    return [_chosen(c, abilities) for c in picked]


def _chosen(candidate: Candidate, abilities: Mapping[str, SkillState]) -> ChosenItem:
    predicted = p_correct(skill_state(abilities, candidate.skill).theta, candidate.difficulty)
    reason = (
        f"{candidate.skill}: review of a question answered wrong before "
        f"(predicted success {predicted:.2f})"
    )
    return ChosenItem(candidate.item_id, candidate.skill, candidate.difficulty, predicted, reason)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
