"""The procedural generator: every skill's builder behind one `generate(skill, level, seed)`.

A private `random.Random` seeded from (skill, level, seed) builds the draft and shuffles its
choices, so items are deterministic; the provenance records what `checks` needs.
"""

from __future__ import annotations

import hashlib
import importlib
from random import Random
from typing import Any

from practicegen.generation.procedural.base import Builder, Draft, SkillDef
from practicegen.generation.procedural.catalog import SKILL_DEFS, SKILL_DEFS_BY_NAME
from practicegen.generation.protocol import LevelOutOfRange, UnknownSkill
from practicegen.items.schemas import Choice, ItemContent, ItemSource
from practicegen.ports import AnswerPolicy, ItemType

GENERATOR_NAME = "procedural"
GENERATOR_VERSION = 1
CHOICE_IDS = ("A", "B", "C", "D")


def _builder(path: str) -> Builder:
    module, function = path.split(".")
    built: Builder = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return built


BUILDERS: dict[str, Builder] = {d.spec.skill: _builder(d.builder) for d in SKILL_DEFS}
"""Each skill's builder, loaded with this module (a pool process's fork server preloads it)."""


def seeded_rng(skill: str, level: int, seed: int) -> Random:
    """A generator-private RNG; stable across processes and Python versions."""
    digest = hashlib.blake2b(f"{skill}|{level}|{seed}".encode(), digest_size=8).digest()
    return Random(int.from_bytes(digest, "big"))


def _solution(draft: Draft, correct_id: str | None) -> str:
    lines = [f"{i}. {step.text}: ${step.latex}$" for i, step in enumerate(draft.steps, start=1)]
    answer = f"**Answer:** ${draft.answer_latex}$"
    if correct_id is not None:
        answer += f" (choice {correct_id})"
    return "\n".join(lines) + "\n\n" + answer


def _choices(draft: Draft, rng: Random) -> tuple[list[Choice], str, dict[str, str]]:
    if len(draft.wrongs) < len(CHOICE_IDS) - 1:
        raise ValueError(f"a multiple-choice draft needs 3 wrong answers, got {len(draft.wrongs)}")
    options: list[tuple[str, str, str | None]] = [(draft.answer, draft.answer_latex, None)]
    options += [(w.value, w.latex, w.misconception) for w in draft.wrongs[:3]]
    rng.shuffle(options)
    choices = [
        Choice(id=cid, text=f"${latex}$", misconception=tag)
        for cid, (_, latex, tag) in zip(CHOICE_IDS, options, strict=True)
    ]
    correct = next(choice.id for choice in choices if choice.misconception is None)
    values = {choice.id: value for choice, (value, _, _) in zip(choices, options, strict=True)}
    return choices, correct, values


def _provenance(skill: str, level: int, seed: int, draft: Draft) -> dict[str, Any]:
    """Where the item came from, and the machine-readable problem `checks` re-solves."""
    provenance: dict[str, Any] = {
        "generator": GENERATOR_NAME,
        "skill": skill,
        "level": level,
        "seed": seed,
        "version": GENERATOR_VERSION,
        "kind": draft.kind.value,
        "problem": draft.problem,
        "steps": [step.plain for step in draft.steps],
        "key": draft.answer,
        "distractors": [{"value": w.value, "misconception": w.misconception} for w in draft.wrongs],
    }
    if draft.tolerance is not None:
        provenance["tolerance"] = draft.tolerance
    return provenance


def build_item(definition: SkillDef, level: int, seed: int) -> ItemContent:
    spec = definition.spec
    rng = seeded_rng(spec.skill, level, seed)
    draft = BUILDERS[spec.skill](rng, level)
    provenance = _provenance(spec.skill, level, seed, draft)
    fields: dict[str, Any] = {
        "type": draft.item_type,
        "answer": draft.answer,
        "answer_policy": draft.policy,
        "tolerance": draft.tolerance,
    }
    correct_id = None
    if draft.multiple_choice:
        choices, correct_id, provenance["choice_values"] = _choices(draft, rng)
        fields = {
            "type": ItemType.MULTIPLE_CHOICE,
            "answer": correct_id,
            "answer_policy": AnswerPolicy.CHOICE,
            "choices": choices,
        }
    return ItemContent(
        subject=spec.subject,
        topic=spec.topic,
        skill=spec.skill,
        stem=draft.stem,
        hints=list(draft.hints),
        solution=_solution(draft, correct_id),
        difficulty=definition.difficulty[level - 1],
        source=ItemSource.PROCEDURAL,
        provenance=provenance,
        **fields,
    )


def generate(skill: str, level: int, seed: int) -> ItemContent:
    """The item for (skill, level, seed) of any skill in `SKILL_DEFS`, the same every time;
    raises UnknownSkill or LevelOutOfRange."""
    definition = SKILL_DEFS_BY_NAME.get(skill)
    if definition is None:
        raise UnknownSkill(skill=skill)
    if not 1 <= level <= definition.spec.levels:
        raise LevelOutOfRange(skill=skill, level=level, levels=definition.spec.levels)
    return build_item(definition, level, seed)
