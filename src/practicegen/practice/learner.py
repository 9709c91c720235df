"""The learner model (pure): the Rasch model, P(correct) = logistic(theta - b), with an ability
`theta` per skill and a difficulty `b` per item, both learnt online by Elo steps against the
surprise `correct - predicted` (Pelanek, 2016). Selection aims the chance averaged over theta's
uncertainty (probit approximation); an unpractised skill starts from the student's others.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SkillState:
    """A student's estimated ability in one skill and the number of responses behind it."""

    theta: float
    n: int = 0


@dataclass(frozen=True, slots=True)
class ItemState:
    """An item's estimated difficulty and the number of responses behind it."""

    difficulty: float
    n: int = 0


@dataclass(frozen=True, slots=True)
class LearnerParams:
    """The model's constants (the service uses the defaults); steps K(n) = k / (1 + k_decay * n);
    `prior_weight` is the responses' worth of belief a cold-start prior puts on theta 0;
    `ability_sd` the spread of abilities among students; `bound` the scale's limit."""

    student_k: float = 1.5
    student_k_decay: float = 0.0
    item_k: float = 0.4
    item_k_decay: float = 0.05
    prior_weight: float = 10.0
    ability_sd: float = 1.2
    bound: float = 6.0

    def __post_init__(self) -> None:
        if self.student_k <= 0 or self.item_k < 0:
            raise ValueError("student_k must be positive and item_k non-negative")
        if self.student_k_decay < 0 or self.item_k_decay < 0:
            raise ValueError("step decays must be non-negative")
        if self.prior_weight < 0 or self.bound <= 0 or self.ability_sd <= 0:
            raise ValueError("prior_weight must be non-negative, ability_sd and bound positive")


DEFAULTS = LearnerParams()


@dataclass(frozen=True, slots=True)
class ResponseUpdate:
    """The result of one graded response: the new states and the prediction made before it."""

    skill: SkillState
    item: ItemState
    predicted: float


def p_correct(theta: float, difficulty: float) -> float:
    """Rasch probability that a student of ability `theta` answers an item of `difficulty`."""
    x = theta - difficulty
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)  # the same logistic, written so exp() cannot overflow for very negative x
    return z / (1.0 + z)


def expected_p_correct(theta: float, difficulty: float, variance: float) -> float:
    """P(correct) averaged over an ability normal around `theta` with `variance` (probit)."""
    return p_correct((theta - difficulty) / _spread(variance), 0.0)


def target_difficulty(theta: float, p_target: float, variance: float = 0.0) -> float:
    """The difficulty at which `theta` (uncertain by `variance`) expects chance `p_target`."""
    if not 0.0 < p_target < 1.0:
        raise ValueError("p_target must be strictly between 0 and 1")
    return theta - math.log(p_target / (1.0 - p_target)) * _spread(variance)


def aim(state: SkillState, p_target: float) -> float:
    """The difficulty to give a student in `state` for an expected chance `p_target`."""
    return target_difficulty(state.theta, p_target, ability_variance(state, p_target))


def ability_variance(state: SkillState, p_target: float, params: LearnerParams = DEFAULTS) -> float:
    """How uncertain `state.theta` is: the population's variance, narrowed by each response's
    Fisher information p (1 - p) about theta."""
    information = p_target * (1.0 - p_target)
    return 1.0 / (1.0 / params.ability_sd**2 + information * max(state.n, 0))


def step_size(k: float, decay: float, n: int) -> float:
    """Elo step after `n` earlier responses: large while uncertain, shrinking with evidence."""
    return k / (1.0 + decay * max(n, 0))


def prior_theta(other_skills: Collection[SkillState], params: LearnerParams = DEFAULTS) -> float:
    """Starting ability for a skill never practised: the evidence-weighted mean of
    `other_skills` (the subject's), shrunk toward 0 by `params.prior_weight` pseudo-responses."""
    evidence = sum(state.n for state in other_skills)
    if evidence == 0:
        return 0.0
    weighted = sum(state.theta * state.n for state in other_skills)
    return _clamp(weighted / (evidence + params.prior_weight), params.bound)


def skill_state(
    abilities: Mapping[str, SkillState], skill: str, params: LearnerParams = DEFAULTS
) -> SkillState:
    """The state in `skill`, or the prior from `abilities` (the subject's) with n = 0."""
    if (state := abilities.get(skill)) is not None:
        return state
    return SkillState(theta=prior_theta(abilities.values(), params), n=0)


def update(
    skill: SkillState, item: ItemState, correct: bool, params: LearnerParams = DEFAULTS
) -> ResponseUpdate:
    """Apply one graded response to the student's skill and to the item (an Elo step each)."""
    predicted = p_correct(skill.theta, item.difficulty)
    surprise = (1.0 if correct else 0.0) - predicted
    k_student = step_size(params.student_k, params.student_k_decay, skill.n)
    k_item = step_size(params.item_k, params.item_k_decay, item.n)
    return ResponseUpdate(
        skill=SkillState(_clamp(skill.theta + k_student * surprise, params.bound), skill.n + 1),
        item=ItemState(_clamp(item.difficulty - k_item * surprise, params.bound), item.n + 1),
        predicted=predicted,
    )


def _spread(variance: float) -> float:
    return math.sqrt(1.0 + math.pi * max(variance, 0.0) / 8.0)


def _clamp(value: float, bound: float) -> float:
    return max(-bound, min(bound, value))
