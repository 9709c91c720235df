"""Properties of the Rasch/Elo learner model."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from practicegen.practice.learner import (
    ItemState,
    LearnerParams,
    SkillState,
    p_correct,
    prior_theta,
    skill_state,
    step_size,
    target_difficulty,
    update,
)

logits = st.floats(min_value=-6.0, max_value=6.0, allow_nan=False)
probabilities = st.floats(min_value=0.01, max_value=0.99, allow_nan=False)
counts = st.integers(min_value=0, max_value=10_000)
# Strictly inside the stored scale, so a step is never swallowed by the clamp at +-6.
interior = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)


@given(logits)
def test_p_correct_is_one_half_when_ability_equals_difficulty(x: float) -> None:
    assert p_correct(x, x) == pytest.approx(0.5)


@given(logits, logits, st.floats(min_value=0.01, max_value=3.0))
def test_p_correct_rises_with_ability_and_falls_with_difficulty(
    theta: float, b: float, delta: float
) -> None:
    assert p_correct(theta + delta, b) > p_correct(theta, b)
    assert p_correct(theta, b + delta) < p_correct(theta, b)


@given(logits, logits)
def test_p_correct_is_a_probability_symmetric_in_the_gap(theta: float, b: float) -> None:
    p = p_correct(theta, b)
    assert 0.0 < p < 1.0
    assert p + p_correct(b, theta) == pytest.approx(1.0)


def test_p_correct_survives_extreme_gaps() -> None:
    assert p_correct(-1000.0, 1000.0) == pytest.approx(0.0)
    assert p_correct(1000.0, -1000.0) == pytest.approx(1.0)
    assert p_correct(1.0, 0.0) == pytest.approx(1 / (1 + math.exp(-1)))


@given(logits, probabilities)
def test_target_difficulty_gives_the_target_success(theta: float, target: float) -> None:
    assert p_correct(theta, target_difficulty(theta, target)) == pytest.approx(target)


def test_target_difficulty_of_three_quarters_is_below_ability() -> None:
    assert target_difficulty(0.0, 0.75) == pytest.approx(-math.log(3))
    assert target_difficulty(1.0, 0.5) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_target_difficulty_rejects_impossible_targets(bad: float) -> None:
    with pytest.raises(ValueError):
        target_difficulty(0.0, bad)


@given(interior, interior, counts, counts)
def test_a_correct_answer_raises_ability_and_lowers_difficulty(
    theta: float, b: float, n_student: int, n_item: int
) -> None:
    result = update(SkillState(theta, n_student), ItemState(b, n_item), correct=True)
    assert result.skill.theta > theta
    assert result.item.difficulty < b
    assert (result.skill.n, result.item.n) == (n_student + 1, n_item + 1)
    assert result.predicted == pytest.approx(p_correct(theta, b))


@given(interior, interior, counts, counts)
def test_a_wrong_answer_lowers_ability_and_raises_difficulty(
    theta: float, b: float, n_student: int, n_item: int
) -> None:
    result = update(SkillState(theta, n_student), ItemState(b, n_item), correct=False)
    assert result.skill.theta < theta
    assert result.item.difficulty > b


def test_the_surprise_sets_the_size_of_the_move() -> None:
    expected = update(SkillState(2.0, 5), ItemState(0.0, 5), correct=True)
    surprising = update(SkillState(-2.0, 5), ItemState(0.0, 5), correct=True)
    assert surprising.skill.theta - -2.0 > expected.skill.theta - 2.0


@given(st.floats(min_value=0.01, max_value=5.0), st.floats(min_value=0.001, max_value=1.0), counts)
def test_steps_shrink_with_evidence(k: float, decay: float, n: int) -> None:
    assert step_size(k, decay, n + 1) < step_size(k, decay, n)
    assert step_size(k, decay, 0) == k


def test_a_well_measured_state_moves_less_than_a_new_one() -> None:
    new = update(SkillState(0.0, 0), ItemState(0.0, 0), correct=True)
    old = update(SkillState(0.0, 200), ItemState(0.0, 200), correct=True)
    assert 0 < old.skill.theta < new.skill.theta
    assert new.item.difficulty < old.item.difficulty < 0


def test_params_steer_the_update() -> None:
    frozen_items = LearnerParams(item_k=0.0)
    result = update(SkillState(0.0), ItemState(1.0), correct=True, params=frozen_items)
    assert result.item.difficulty == 1.0
    assert result.skill.theta == pytest.approx(frozen_items.student_k * (1 - p_correct(0, 1)))


def test_estimates_stay_on_the_stored_scale() -> None:
    result = update(SkillState(5.99, 0), ItemState(-5.99, 0), correct=True)
    low = update(SkillState(-5.99, 0), ItemState(5.99, 0), correct=False)
    assert result.skill.theta <= 6.0 and result.item.difficulty >= -6.0
    assert low.skill.theta >= -6.0 and low.item.difficulty <= 6.0


@pytest.mark.parametrize(
    "kwargs",
    [{"student_k": 0.0}, {"item_k": -1.0}, {"student_k_decay": -0.1}, {"prior_weight": -1.0}],
)
def test_params_reject_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LearnerParams(**kwargs)


def test_prior_is_zero_without_evidence() -> None:
    assert prior_theta([]) == 0.0
    assert prior_theta([SkillState(2.0, 0)]) == 0.0


def test_prior_is_the_evidence_weighted_mean_shrunk_toward_zero() -> None:
    others = [SkillState(1.0, 30), SkillState(-1.0, 10)]
    assert prior_theta(others, LearnerParams(prior_weight=10.0)) == pytest.approx(20 / 50)
    assert prior_theta(others, LearnerParams(prior_weight=0.0)) == pytest.approx(20 / 40)


@given(st.lists(st.tuples(logits, st.integers(min_value=0, max_value=500)), max_size=8))
def test_prior_lies_between_zero_and_the_unshrunk_mean(states: list[tuple[float, int]]) -> None:
    others = [SkillState(theta, n) for theta, n in states]
    evidence = sum(s.n for s in others)
    prior = prior_theta(others)
    if evidence == 0:
        assert prior == 0.0
        return
    mean = sum(s.theta * s.n for s in others) / evidence
    assert min(0.0, mean) - 1e-9 <= prior <= max(0.0, mean) + 1e-9


def test_the_prior_applies_only_to_unseen_skills() -> None:
    abilities = {"fractions.add": SkillState(1.5, 40), "percent.of": SkillState(0.5, 10)}
    assert skill_state(abilities, "fractions.add") == SkillState(1.5, 40)
    unseen = skill_state(abilities, "ratios.scale")
    assert unseen.n == 0
    assert unseen.theta == pytest.approx((1.5 * 40 + 0.5 * 10) / (50 + 10))
    assert skill_state({}, "ratios.scale") == SkillState(0.0, 0)
