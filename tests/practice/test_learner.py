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
    ability_variance,
    aim,
    expected_p_correct,
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


def test_a_well_measured_item_moves_less_than_a_new_one() -> None:
    new = update(SkillState(0.0, 0), ItemState(0.0, 0), correct=True)
    old = update(SkillState(0.0, 200), ItemState(0.0, 200), correct=True)
    assert new.item.difficulty < old.item.difficulty < 0


def test_a_student_keeps_a_steady_step_by_default_and_a_shrinking_one_if_asked() -> None:
    new = update(SkillState(0.0, 0), ItemState(0.0, 0), correct=True)
    old = update(SkillState(0.0, 200), ItemState(0.0, 0), correct=True)
    assert old.skill.theta == new.skill.theta > 0
    settling = LearnerParams(student_k_decay=0.05)
    new = update(SkillState(0.0, 0), ItemState(0.0, 0), correct=True, params=settling)
    old = update(SkillState(0.0, 200), ItemState(0.0, 0), correct=True, params=settling)
    assert 0 < old.skill.theta < new.skill.theta


@given(logits, logits)
def test_expected_success_without_uncertainty_is_the_point_prediction(
    theta: float, b: float
) -> None:
    assert expected_p_correct(theta, b, 0.0) == pytest.approx(p_correct(theta, b))


@given(logits, logits, st.floats(min_value=0.05, max_value=4.0))
def test_uncertainty_pulls_the_expected_success_toward_one_half(
    theta: float, b: float, variance: float
) -> None:
    point = p_correct(theta, b)
    expected = expected_p_correct(theta, b, variance)
    assert abs(expected - 0.5) <= abs(point - 0.5)


@pytest.mark.parametrize("variance", [0.25, 1.0, 1.44, 4.0])
@pytest.mark.parametrize("gap", [-2.0, 0.0, 1.1, 3.0])
def test_expected_success_matches_the_logistic_normal_integral(variance: float, gap: float) -> None:
    """The probit approximation against the integral itself (midpoint rule over +-8 sd)."""
    sd = math.sqrt(variance)
    steps = 4000
    width = 16.0 / steps
    exact = 0.0
    for i in range(steps):
        z = -8.0 + (i + 0.5) * width
        exact += p_correct(gap + sd * z, 0.0) * math.exp(-z * z / 2) * width
    exact /= math.sqrt(2 * math.pi)
    assert expected_p_correct(gap, 0.0, variance) == pytest.approx(exact, abs=0.01)


@given(logits, probabilities, st.integers(min_value=0, max_value=500))
def test_aim_gives_the_target_as_expected_success(theta: float, target: float, n: int) -> None:
    state = SkillState(theta, n)
    variance = ability_variance(state, target)
    assert expected_p_correct(theta, aim(state, target), variance) == pytest.approx(target)


def test_aim_is_gentler_for_a_student_the_model_knows_less_about() -> None:
    new, known = SkillState(0.0, 0), SkillState(0.0, 400)
    assert aim(new, 0.75) < aim(known, 0.75) < 0.0
    assert aim(known, 0.75) == pytest.approx(target_difficulty(0.0, 0.75), abs=0.02)


def test_uncertainty_starts_at_the_population_spread_and_shrinks_with_responses() -> None:
    params = LearnerParams(ability_sd=1.2)
    assert ability_variance(SkillState(0.0, 0), 0.75, params) == pytest.approx(1.44)
    after = [ability_variance(SkillState(0.0, n), 0.75, params) for n in (1, 10, 100)]
    assert 1.44 > after[0] > after[1] > after[2]
    assert after[2] == pytest.approx(1 / (1 / 1.44 + 100 * 0.1875))


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
    [
        {"student_k": 0.0},
        {"item_k": -1.0},
        {"student_k_decay": -0.1},
        {"prior_weight": -1.0},
        {"ability_sd": 0.0},
    ],
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
