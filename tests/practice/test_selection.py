"""The rules of item selection: no repeats, coverage, honesty about shortfall, targeting, order."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from practicegen.items.candidates import SubjectItems
from practicegen.items.repository import CandidateRow
from practicegen.ports import Candidate
from practicegen.practice.learner import (
    SkillState,
    ability_variance,
    aim,
    expected_p_correct,
    prior_theta,
    skill_state,
)
from practicegen.practice.selection import Selection, nearest_needed, select_items

SKILLS = ["fractions.add", "linear_equations.two_step", "percent.of_quantity"]


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n + 1)


def _pool(
    per_skill: int, skills: list[str] = SKILLS, seed: int = 0, variants: int = 1
) -> list[Candidate]:
    rng = random.Random(seed)
    pool = []
    for s, skill in enumerate(skills):
        for i in range(per_skill):
            n = s * per_skill + i
            fingerprint = f"{skill}/{i // variants}"
            pool.append(Candidate(_id(n), skill, rng.uniform(-3.0, 3.0), fingerprint))
    return pool


def _select(
    candidates: list[Candidate],
    num_items: int,
    seed: int = 1,
    abilities: Mapping[str, SkillState] | None = None,
    **kwargs: Any,
) -> Selection:
    rng = random.Random(seed)
    return select_items(candidates, abilities or {}, num_items, rng=rng, **kwargs)


def _fingerprints(candidates: list[Candidate], selection: Selection) -> list[str]:
    by_id = {c.item_id: c.fingerprint for c in candidates}
    return [by_id[c.item_id] for c in selection.chosen]


def test_never_the_same_fingerprint_twice() -> None:
    pool = _pool(60, variants=6)
    selection = _select(pool, 20)
    fingerprints = _fingerprints(pool, selection)
    assert len(fingerprints) == 20
    assert len(set(fingerprints)) == 20


def test_variants_clustered_at_the_target_yield_one_item_then_the_next_best() -> None:
    cluster = [Candidate(_id(i), "fractions.add", -1.1, "same-question") for i in range(50)]
    others = [Candidate(_id(100 + i), "fractions.add", 2.0 + i / 10, f"q{i}") for i in range(5)]
    selection = _select(cluster + others, 4)
    fingerprints = _fingerprints(cluster + others, selection)
    assert fingerprints.count("same-question") == 1
    assert selection.shortfall == 0


def test_recent_items_and_fingerprints_are_avoided() -> None:
    pool = _pool(40, variants=2)
    first = _select(pool, 10)
    recent_ids = {c.item_id for c in first.chosen}
    recent_fps = set(_fingerprints(pool, first))
    second = _select(pool, 10, recent_item_ids=recent_ids, recent_fingerprints=recent_fps)
    assert not recent_ids & {c.item_id for c in second.chosen}
    assert not recent_fps & set(_fingerprints(pool, second))


def test_a_recent_fingerprint_rules_out_its_other_variants() -> None:
    pool = [
        Candidate(_id(1), "fractions.add", -1.1, "q1"),
        Candidate(_id(2), "fractions.add", -1.1, "q1"),
        Candidate(_id(3), "fractions.add", 0.0, "q2"),
    ]
    selection = _select(pool, 3, recent_fingerprints={"q1"})
    assert [c.item_id for c in selection.chosen] == [_id(3)]
    assert selection.shortfall == 2


def test_a_short_pool_is_reported_not_padded_with_repeats() -> None:
    pool = _pool(3)
    recent = {pool[0].item_id, pool[1].item_id}
    selection = _select(pool, 20, recent_item_ids=recent)
    assert len(selection.chosen) == 7
    assert selection.shortfall == 13
    assert not recent & {c.item_id for c in selection.chosen}


def test_an_empty_pool_gives_an_empty_selection() -> None:
    selection = _select([], 5, required_skills=["fractions.add"])
    assert selection == Selection(chosen=[], shortfall=5, uncovered_skills=["fractions.add"])


def test_every_required_skill_is_covered_even_when_others_are_closer() -> None:
    abilities = {skill: SkillState(0.0, 20) for skill in SKILLS}
    on_target = [Candidate(_id(i), "fractions.add", -1.1, f"a{i}") for i in range(20)]
    far = [
        Candidate(_id(100), "linear_equations.two_step", 3.0, "b"),
        Candidate(_id(101), "percent.of_quantity", -4.0, "c"),
    ]
    selection = _select(on_target + far, 3, abilities=abilities, required_skills=SKILLS)
    assert sorted(c.skill for c in selection.chosen) == sorted(SKILLS)
    assert selection.uncovered_skills == []


def test_required_skills_share_the_assignment_round_robin() -> None:
    selection = _select(_pool(50, skills=[*SKILLS, "ratios.scale"]), 9, required_skills=SKILLS)
    assert Counter(c.skill for c in selection.chosen) == dict.fromkeys(SKILLS, 3)


def test_too_few_slots_leave_later_required_skills_uncovered() -> None:
    selection = _select(_pool(20), 2, required_skills=SKILLS)
    assert [c.skill for c in selection.chosen if c.skill == SKILLS[2]] == []
    assert selection.uncovered_skills == [SKILLS[2]]
    assert selection.shortfall == 0


def test_a_required_skill_without_items_is_uncovered_and_others_fill_its_slots() -> None:
    selection = _select(_pool(20, skills=SKILLS[:2]), 6, required_skills=SKILLS)
    assert selection.uncovered_skills == [SKILLS[2]]
    assert Counter(c.skill for c in selection.chosen) == dict.fromkeys(SKILLS[:2], 3)
    assert selection.shortfall == 0


def test_exhausted_required_skills_give_way_to_other_skills() -> None:
    pool = _pool(2, skills=["fractions.add"]) + [
        Candidate(_id(500 + i), "ratios.scale", 0.0, f"r{i}") for i in range(5)
    ]
    selection = _select(pool, 5, required_skills=["fractions.add"])
    assert Counter(c.skill for c in selection.chosen) == {"fractions.add": 2, "ratios.scale": 3}


def test_duplicate_required_skills_count_once() -> None:
    selection = _select(_pool(10), 4, required_skills=[SKILLS[0], SKILLS[0], SKILLS[1]])
    assert Counter(c.skill for c in selection.chosen) == {SKILLS[0]: 2, SKILLS[1]: 2}


@pytest.mark.parametrize("theta", [-0.5, 0.0, 1.2])
@pytest.mark.parametrize("target", [0.6, 0.75, 0.9])
def test_predicted_success_is_near_target_when_the_pool_allows(theta: float, target: float) -> None:
    abilities = {skill: SkillState(theta, 30) for skill in SKILLS}
    selection = _select(
        _pool(400), 12, abilities=abilities, target_p=target, required_skills=SKILLS
    )
    assert len(selection.chosen) == 12
    for chosen in selection.chosen:
        variance = ability_variance(abilities[chosen.skill], target)
        expected = expected_p_correct(theta, chosen.difficulty, variance)
        assert chosen.predicted_success == pytest.approx(expected)
        assert abs(chosen.predicted_success - target) <= 0.05


def test_the_best_item_wins_when_there_is_no_jitter() -> None:
    pool = [
        Candidate(_id(1), "fractions.add", 0.0, "p50"),
        Candidate(_id(2), "fractions.add", -1.0, "p73"),
        Candidate(_id(3), "fractions.add", -2.0, "p88"),
    ]
    selection = _select(pool, 1, jitter=0.0)
    assert [c.item_id for c in selection.chosen] == [_id(2)]


def test_an_unseen_skill_is_targeted_from_the_prior_and_says_so() -> None:
    abilities = {"fractions.add": SkillState(2.0, 40)}
    selection = _select(_pool(300), 3, abilities=abilities, required_skills=[SKILLS[1]])
    prior = prior_theta(abilities.values())
    assert prior > 1.0
    for chosen in selection.chosen:
        unsure = ability_variance(SkillState(prior, 0), 0.75)
        expected = expected_p_correct(prior, chosen.difficulty, unsure)
        assert chosen.predicted_success == pytest.approx(expected)
        assert "prior" in chosen.reason


def test_reasons_name_the_skill_and_the_prediction() -> None:
    abilities = {skill: SkillState(0.3, 10) for skill in SKILLS}
    selection = _select(_pool(100), 3, abilities=abilities, required_skills=SKILLS)
    for chosen in selection.chosen:
        assert chosen.reason == (
            f"{chosen.skill}: predicted success {chosen.predicted_success:.2f} (target 0.75)"
        )


def test_the_assignment_ramps_from_easy_to_hard() -> None:
    abilities = {"fractions.add": SkillState(1.0, 30), "percent.of_quantity": SkillState(-1.0, 30)}
    selection = _select(_pool(30), 10, abilities=abilities, jitter=0.2)
    predicted = [c.predicted_success for c in selection.chosen]
    assert predicted == sorted(predicted, reverse=True)


def test_a_seeded_random_makes_the_selection_reproducible() -> None:
    pool = _pool(300)
    assert _select(pool, 10, seed=7, required_skills=SKILLS) == _select(
        pool, 10, seed=7, required_skills=SKILLS
    )


def test_students_at_the_same_ability_do_not_all_get_the_same_set() -> None:
    pool = _pool(300)
    sets = {frozenset(c.item_id for c in _select(pool, 10, seed=seed).chosen) for seed in range(5)}
    assert len(sets) > 1


@pytest.mark.parametrize(
    ("num_items", "kwargs"),
    [(-1, {}), (3, {"target_p": 1.0}), (3, {"target_p": 0.0}), (3, {"jitter": -0.1})],
)
def test_nonsense_arguments_are_rejected(num_items: int, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _select(_pool(5), num_items, **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.floats(min_value=-6, max_value=6, allow_nan=False),
            st.integers(min_value=0, max_value=15),
        ),
        max_size=40,
    ),
    st.integers(min_value=0, max_value=12),
    st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=4),
    st.sets(st.integers(min_value=0, max_value=39), max_size=10),
    st.sets(st.integers(min_value=0, max_value=15).map(str), max_size=3),
    st.integers(min_value=0, max_value=2**32),
)
def test_invariants_hold_for_any_pool(
    rows: list[tuple[str, float, int]],
    num_items: int,
    required: list[str],
    recent: set[int],
    recent_fps: set[str],
    seed: int,
) -> None:
    pool = [Candidate(_id(i), skill, b, str(fp)) for i, (skill, b, fp) in enumerate(rows)]
    recent_ids = {_id(i) for i in recent}
    selection = _select(
        pool,
        num_items,
        seed=seed,
        required_skills=required,
        recent_item_ids=recent_ids,
        recent_fingerprints=recent_fps,
    )
    chosen_fps = _fingerprints(pool, selection)
    eligible_fps = {c.fingerprint for c in pool if c.item_id not in recent_ids} - recent_fps
    assert len(set(chosen_fps)) == len(chosen_fps)
    assert not recent_ids & {c.item_id for c in selection.chosen}
    assert not recent_fps & set(chosen_fps)
    assert len(selection.chosen) == min(num_items, len(eligible_fps))
    assert selection.shortfall == num_items - len(selection.chosen)
    covered = {c.skill for c in selection.chosen}
    assert selection.uncovered_skills == [s for s in dict.fromkeys(required) if s not in covered]


def test_the_items_nearest_each_target_are_all_that_selection_needs() -> None:
    """The `nearest_needed` items nearest each target, beyond the recent ones, decide it all."""
    rng = random.Random(11)
    bank = SubjectItems.of(
        [
            CandidateRow(_id(n), skill, "topic", rng.uniform(-3.0, 3.0), f"{skill}/{n}")
            for n, skill in enumerate(SKILLS * 200)
        ]
    )
    everything = [c for group in bank.groups.values() for c in group]
    for trial in range(150):
        abilities = {
            s: SkillState(rng.uniform(-2.0, 2.0), rng.randint(0, 9))
            for s in SKILLS
            if rng.random() < 0.7
        }
        targets = {key: aim(skill_state(abilities, key[1]), 0.75) for key in bank.groups}
        # Recent practice sits near the targets: it is what earlier selections chose.
        recent = [
            rng.choice(bank.nearest(key, targets[key], 40))
            for key in rng.choices(list(bank.groups), k=rng.randint(0, 25))
        ]
        num_items = rng.choice([1, 5, 12])
        reach = nearest_needed(num_items) + len(recent)
        nearest = [c for key in bank.groups for c in bank.nearest(key, targets[key], reach)]
        assert len(nearest) < len(everything)
        kwargs: dict[str, Any] = {
            "abilities": abilities,
            "required_skills": rng.sample(SKILLS, rng.randint(0, 2)),
            "recent_item_ids": {c.item_id for c in recent},
            "recent_fingerprints": {c.fingerprint for c in recent},
        }
        assert _select(nearest, num_items, seed=trial, **kwargs) == _select(
            everything, num_items, seed=trial, **kwargs
        )
