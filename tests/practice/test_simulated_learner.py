"""Acceptance: the learner model and the selection work together on simulated students.

Students with hidden abilities answer by the true Rasch model. The item bank's declared
difficulties are the true ones plus noise, so the model has to learn items as well as students;
items are shared, and students take turns (round-robin, one assignment each per round) so item
estimates improve as the population works, as they would in service.

Two readings are asserted:

- Targeting. Over each student's responses 21-40, observed success is compared with the 0.75
  target, and the mean over students of |observed - 0.75| must be at most 0.08. Binomial noise
  over 20 answers alone gives about 0.077 for a model that knew every ability exactly, so this
  holds only because the model's steady student step regulates: a run of successes raises theta
  and brings harder items. The population's mean success must be within 0.08 of the target too.
- Prediction. The online log-loss of the model's prediction, made before each response, must
  beat a baseline predicting each item's running mean correctness, Laplace-smoothed
  ((correct + 1) / (seen + 2)).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field

from practicegen.ports import Candidate
from practicegen.practice.learner import (
    ItemState,
    LearnerParams,
    SkillState,
    p_correct,
    skill_state,
    update,
)
from practicegen.practice.selection import select_items

SKILLS = ("fractions.add", "linear_equations.two_step", "percent.of_quantity")
ITEMS_PER_SKILL = 200
VARIANTS_PER_FINGERPRINT = 2
STUDENTS = 200
ASSIGNMENTS = 8
ITEMS_PER_ASSIGNMENT = 5
TARGET = 0.75
SEED = 20240611


@dataclass(frozen=True)
class BankItem:
    item_id: uuid.UUID
    skill: str
    fingerprint: str
    true_difficulty: float


@dataclass
class Student:
    true_theta: dict[str, float]
    abilities: dict[str, SkillState] = field(default_factory=dict)
    seen_ids: set[uuid.UUID] = field(default_factory=set)
    seen_fingerprints: set[str] = field(default_factory=set)
    outcomes: list[bool] = field(default_factory=list)


@dataclass
class Tally:
    model_loss: float = 0.0
    baseline_loss: float = 0.0
    n: int = 0


def _bank(rng: random.Random) -> tuple[list[BankItem], dict[uuid.UUID, ItemState]]:
    bank: list[BankItem] = []
    states: dict[uuid.UUID, ItemState] = {}
    for skill in SKILLS:
        for i in range(ITEMS_PER_SKILL):
            item = BankItem(
                item_id=uuid.UUID(int=rng.getrandbits(128)),
                skill=skill,
                fingerprint=f"{skill}/{i // VARIANTS_PER_FINGERPRINT}",
                true_difficulty=rng.uniform(-3.0, 3.0),
            )
            bank.append(item)
            states[item.item_id] = ItemState(item.true_difficulty + rng.gauss(0.0, 0.5), 0)
    return bank, states


def _students(rng: random.Random) -> list[Student]:
    students = []
    for _ in range(STUDENTS):
        general = rng.gauss(0.0, 1.0)
        # Correlated across skills (r = 0.6), each with sd 1.2.
        thetas = {
            s: 1.2 * (math.sqrt(0.6) * general + math.sqrt(0.4) * rng.gauss(0.0, 1.0))
            for s in SKILLS
        }
        students.append(Student(true_theta=thetas))
    return students


def _log_loss(p: float, correct: bool) -> float:
    return -math.log(p if correct else 1.0 - p)


def _assignment(
    student: Student,
    bank: dict[uuid.UUID, BankItem],
    states: dict[uuid.UUID, ItemState],
    counts: dict[uuid.UUID, tuple[int, int]],
    tally: Tally,
    rng: random.Random,
) -> None:
    candidates = [
        Candidate(item.item_id, item.skill, states[item.item_id].difficulty, item.fingerprint)
        for item in bank.values()
    ]
    selection = select_items(
        candidates,
        student.abilities,
        ITEMS_PER_ASSIGNMENT,
        rng=rng,
        target_p=TARGET,
        required_skills=SKILLS,
        recent_item_ids=student.seen_ids,
        recent_fingerprints=student.seen_fingerprints,
    )
    assert selection.shortfall == 0
    for chosen in selection.chosen:
        item = bank[chosen.item_id]
        correct = rng.random() < p_correct(student.true_theta[item.skill], item.true_difficulty)
        result = update(skill_state(student.abilities, item.skill), states[item.item_id], correct)
        right, seen = counts.get(item.item_id, (0, 0))
        tally.model_loss += _log_loss(result.predicted, correct)
        tally.baseline_loss += _log_loss((right + 1) / (seen + 2), correct)
        tally.n += 1
        counts[item.item_id] = (right + correct, seen + 1)
        student.abilities[item.skill] = result.skill
        states[item.item_id] = result.item
        student.seen_ids.add(item.item_id)
        student.seen_fingerprints.add(item.fingerprint)
        student.outcomes.append(correct)


def test_simulated_students_are_kept_near_target_and_predicted_better_than_baseline() -> None:
    rng = random.Random(SEED)
    items, states = _bank(rng)
    bank = {item.item_id: item for item in items}
    students = _students(rng)
    counts: dict[uuid.UUID, tuple[int, int]] = {}
    tally = Tally()
    for _ in range(ASSIGNMENTS):
        for student in students:
            _assignment(student, bank, states, counts, tally, rng)

    late = [sum(s.outcomes[20:40]) / 20 for s in students]
    mean_success = sum(late) / len(late)
    mean_abs_gap = sum(abs(x - TARGET) for x in late) / len(late)
    model_loss = tally.model_loss / tally.n
    baseline_loss = tally.baseline_loss / tally.n
    print(
        f"\nsimulated learners: mean success over items 21-40 {mean_success:.3f} "
        f"(target {TARGET}), mean |observed - target| {mean_abs_gap:.3f}, "
        f"log-loss model {model_loss:.4f} vs per-item-mean baseline {baseline_loss:.4f} "
        f"over {tally.n} responses"
    )
    assert all(len(s.outcomes) == ASSIGNMENTS * ITEMS_PER_ASSIGNMENT for s in students)
    assert mean_abs_gap <= 0.08
    assert abs(mean_success - TARGET) <= 0.08
    assert model_loss < baseline_loss


def test_default_params_are_the_ones_simulated() -> None:
    """The simulation above runs on the defaults; changing them should mean re-reading it."""
    assert LearnerParams() == LearnerParams(
        student_k=1.5,
        student_k_decay=0.0,
        item_k=0.4,
        item_k_decay=0.05,
        prior_weight=10.0,
        ability_sd=1.2,
    )
