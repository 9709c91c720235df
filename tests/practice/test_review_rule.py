"""The spaced-review rule on its own: when an item answered wrong comes back, and when it stops."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from practicegen.practice.review import ReviewRule, ReviewState, due_reviews, review_places

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RULE = ReviewRule(spacing_s=3600, rounds=3)


def state(hours_ago: float, right: int) -> ReviewState:
    return ReviewState(uuid.uuid4(), NOW - timedelta(hours=hours_ago), right)


def test_the_spacing_doubles_with_each_right_answer_and_ends_after_the_rounds() -> None:
    assert due_reviews([state(0.9, 0)], RULE, NOW) == []  # wrong 54 min ago: not yet
    fresh = state(1.0, 0)
    assert due_reviews([fresh], RULE, NOW) == [fresh.item_id]  # an hour after the wrong one
    assert due_reviews([state(1.5, 1)], RULE, NOW) == []  # once right: two hours
    assert len(due_reviews([state(2, 1), state(4, 2)], RULE, NOW)) == 2  # then four
    assert due_reviews([state(1000, 3)], RULE, NOW) == []  # three right in a row: done


def test_the_earliest_due_comes_first_and_naive_times_are_utc() -> None:
    later, earlier = state(1.2, 0), state(3.0, 0)
    naive = ReviewState(uuid.uuid4(), (NOW - timedelta(hours=5)).replace(tzinfo=None), 0)
    assert due_reviews([later, earlier, naive], RULE, NOW) == [
        naive.item_id,
        earlier.item_id,
        later.item_id,
    ]


def test_reviews_take_at_most_a_third_of_the_places() -> None:
    assert [review_places(n) for n in (1, 2, 3, 5, 6, 20)] == [1, 1, 1, 1, 2, 6]
