"""The procedural generators: the catalog's shape, and, for every skill and level and arbitrary
seeds, that an item validates, passes the independent check, is deterministic, and that the
grader accepts its key and rejects its misconception-based wrong answers."""

from __future__ import annotations

import pickle
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.generation.procedural.catalog import SKILL_DEFS_BY_NAME
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.registry import generate
from practicegen.generation.protocol import LevelOutOfRange, SkillSpec, UnknownSkill
from practicegen.grading.grade import grade_answer
from practicegen.grading.grades import AnswerKey
from practicegen.items.fingerprint import fingerprint
from practicegen.items.schemas import ItemContent, ItemSource
from practicegen.ports import AnswerPolicy, ItemType

SKILLS = GENERATOR_SKILLS
LEVELS = [(spec.skill, level) for spec in SKILLS for level in range(1, spec.levels + 1)]
SEEDS = st.integers(min_value=-(2**63), max_value=2**64)
PROPERTY = settings(max_examples=12, deadline=None)

TOPICS = {
    "Algebra": {
        "Linear Equations",
        "Inequalities",
        "Systems of Equations",
        "Quadratic Equations",
        "Expressions",
        "Exponents",
        "Slope",
    },
    "Arithmetic": {"Fractions", "Decimals", "Percentages", "Order of Operations", "Integers"},
    "Geometry": {"Area", "Perimeter", "Pythagorean Theorem"},
}


def level_ids(case: tuple[str, int]) -> str:
    return f"{case[0]}@{case[1]}"


def test_the_generator_covers_every_skill_of_the_catalog() -> None:
    assert [spec.skill for spec in SKILLS] == list(SKILL_DEFS_BY_NAME)
    assert len(SKILLS) >= 25


def test_the_catalog_covers_the_curriculum() -> None:
    topics: dict[str, set[str]] = {}
    for spec in SKILLS:
        topics.setdefault(spec.subject, set()).add(spec.topic)
        assert re.fullmatch(r"[a-z0-9_.-]+", spec.skill)
        assert spec.levels >= 3
        assert spec.description
    assert topics == TOPICS
    assert len({spec.skill for spec in SKILLS}) == len(SKILLS)
    assert sum(spec.topic == "Linear Equations" for spec in SKILLS) >= 5


@pytest.mark.parametrize("spec", SKILLS, ids=lambda spec: spec.skill)
def test_difficulty_rises_with_the_level(spec: SkillSpec) -> None:
    levels = list(SKILL_DEFS_BY_NAME[spec.skill].difficulty)
    assert len(levels) == spec.levels
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert all(-3 <= b <= 3 for b in levels)


def test_a_refusal_survives_pickling_for_a_process_pool() -> None:
    error = pickle.loads(pickle.dumps(UnknownSkill(skill="x")))
    assert isinstance(error, UnknownSkill)


def test_unknown_skills_and_levels_are_refused() -> None:
    with pytest.raises(UnknownSkill):
        generate("no.such_skill", 1, 0)
    with pytest.raises(LevelOutOfRange):
        generate("fractions.add", 0, 0)
    with pytest.raises(LevelOutOfRange):
        generate("fractions.add", 99, 0)


def _assert_well_formed(item: ItemContent, skill: str, level: int, seed: int) -> None:
    assert ItemContent.model_validate(item.model_dump(mode="json")) == item
    assert item.skill == skill and item.source is ItemSource.PROCEDURAL
    assert item.difficulty == SKILL_DEFS_BY_NAME[skill].difficulty[level - 1]
    prov = item.provenance
    assert (prov["generator"], prov["skill"], prov["level"], prov["seed"], prov["version"]) == (
        "procedural",
        skill,
        level,
        seed,
        1,
    )
    assert 1 <= len(item.hints) <= 3 and item.solution and "$" in item.stem
    if item.type is ItemType.MULTIPLE_CHOICE:
        assert [c.id for c in item.choices] == ["A", "B", "C", "D"]
        assert item.answer_policy is AnswerPolicy.CHOICE
    else:
        assert not item.choices
        assert item.answer == prov["key"]


@pytest.mark.parametrize("case", LEVELS, ids=level_ids)
@PROPERTY
@given(seed=SEEDS)
def test_every_item_is_valid_checked_and_deterministic(case: tuple[str, int], seed: int) -> None:
    skill, level = case
    item = generate(skill, level, seed)
    _assert_well_formed(item, skill, level, seed)
    report = check_item(item)
    assert report.ok, report.problems
    assert generate(skill, level, seed) == item


def _key(item: ItemContent) -> AnswerKey:
    ids = tuple(choice.id for choice in item.choices)
    return AnswerKey(item.type, item.answer, item.answer_policy, item.tolerance, ids)


@pytest.mark.parametrize("case", LEVELS, ids=level_ids)
@PROPERTY
@given(seed=SEEDS)
def test_the_grader_accepts_the_key_and_rejects_each_wrong_answer(
    case: tuple[str, int], seed: int
) -> None:
    item = generate(case[0], case[1], seed)
    key = _key(item)
    assert grade_answer(item.answer, key).correct
    if item.type is ItemType.MULTIPLE_CHOICE:
        wrongs = [choice.id for choice in item.choices if choice.id != item.answer]
        assert len(wrongs) == 3
    else:
        wrongs = [wrong["value"] for wrong in item.provenance["distractors"]]
    for wrong in wrongs:
        grade = grade_answer(wrong, key)
        assert not grade.correct, (wrong, grade)


@pytest.mark.parametrize("case", LEVELS, ids=level_ids)
def test_seeds_give_varied_questions(case: tuple[str, int]) -> None:
    prints = {fingerprint(generate(case[0], case[1], seed)) for seed in range(30)}
    assert len(prints) >= 5


def test_about_a_third_of_the_skills_ask_multiple_choice() -> None:
    mc_skills = {
        skill
        for skill, level in LEVELS
        for seed in range(6)
        if generate(skill, level, seed).type is ItemType.MULTIPLE_CHOICE
    }
    assert len(SKILLS) / 4 <= len(mc_skills) <= len(SKILLS) * 3 / 4


def test_choices_are_shuffled_by_the_seed() -> None:
    answers = Counter(generate("exponents.rules", 1, seed).answer for seed in range(40))
    assert set(answers) == {"A", "B", "C", "D"}


def test_every_distractor_names_a_misconception() -> None:
    for skill, level in LEVELS:
        item = generate(skill, level, 7)
        tags = [c.misconception for c in item.choices if c.id != item.answer]
        tags += [w["misconception"] for w in item.provenance["distractors"]]
        assert all(isinstance(t, str) and re.fullmatch(r"[a-z0-9_]+", t) for t in tags), skill
