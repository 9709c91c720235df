"""Choosing the items of one assignment: those whose predicted chance of success for this
student is nearest the target. A fingerprint is chosen at most once and recent items are
skipped (a short pool gives a `shortfall`); required skills are served round-robin (those left
out are `uncovered_skills`), the rest of the slots going to the best of any skill; a small
seeded jitter breaks near-ties; the list runs easy to hard. Only a shortlist nearest the target
is scored exactly, so a large pool costs a pass, not a sort.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from practicegen.ports import Candidate, ChosenItem
from practicegen.practice.learner import (
    SkillState,
    ability_variance,
    expected_p_correct,
    skill_state,
    target_difficulty,
)


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen items (easy to hard), how many short of `num_items`, and skills left out."""

    chosen: list[ChosenItem]
    shortfall: int
    uncovered_skills: list[str]


@dataclass(frozen=True, slots=True)
class _Scorer:
    """What ranking needs to know: per-skill ability, its uncertainty and target difficulty."""

    states: Mapping[str, SkillState]
    variances: Mapping[str, float]
    targets: Mapping[str, float]
    target_p: float
    jitter: float
    rng: random.Random

    def logit_distance(self, candidate: Candidate) -> float:
        return abs(candidate.difficulty - self.targets[candidate.skill])

    def predicted(self, candidate: Candidate) -> float:
        skill = candidate.skill
        return expected_p_correct(
            self.states[skill].theta, candidate.difficulty, self.variances[skill]
        )

    def ranked(self, pool: list[Candidate], shortlist: int) -> Iterator[Candidate]:
        """Yield `pool` best first: the shortlist, then (only if consumed) everything else."""
        head = heapq.nsmallest(shortlist, pool, key=self.logit_distance)
        yield from self._jittered(head)
        in_head = {id(c) for c in head}
        yield from self._jittered([c for c in pool if id(c) not in in_head])

    def _jittered(self, pool: list[Candidate]) -> list[Candidate]:
        def nudged_distance(c: Candidate) -> float:
            return abs(self.predicted(c) - self.target_p) + self.rng.uniform(0.0, self.jitter)

        return sorted(pool, key=nudged_distance)  # stable: a tie keeps the pool's order


@dataclass(slots=True)
class _Picks:
    """The selection so far, and what it rules out."""

    num_items: int
    picked: list[Candidate] = field(default_factory=list)
    ids: set[uuid.UUID] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)

    @property
    def full(self) -> bool:
        return len(self.picked) >= self.num_items

    def take_next(self, stream: Iterator[Candidate]) -> bool:
        """Take the best candidate from `stream` not already ruled out; False if none is left."""
        for candidate in stream:
            if candidate.item_id in self.ids or candidate.fingerprint in self.fingerprints:
                continue
            self.picked.append(candidate)
            self.ids.add(candidate.item_id)
            self.fingerprints.add(candidate.fingerprint)
            return True
        return False


def select_items(
    candidates: Sequence[Candidate],
    abilities: Mapping[str, SkillState],
    num_items: int,
    *,
    rng: random.Random,
    target_p: float = 0.75,
    required_skills: Sequence[str] = (),
    recent_item_ids: Collection[uuid.UUID] = frozenset(),
    recent_fingerprints: Collection[str] = frozenset(),
    jitter: float = 0.03,
) -> Selection:
    """Choose up to `num_items` candidates (rules in the module docstring); `jitter` is the
    largest random nudge, in probability, added to an item's distance from `target_p`."""
    if num_items < 0:
        raise ValueError("num_items must be non-negative")
    if jitter < 0:
        raise ValueError("jitter must be non-negative")
    if not 0.0 < target_p < 1.0:
        raise ValueError("target_p must be strictly between 0 and 1")
    required = list(dict.fromkeys(required_skills))
    recent_ids = {item_id.int for item_id in recent_item_ids}
    pools = _eligible_by_skill(candidates, recent_ids, set(recent_fingerprints))
    scorer = _make_scorer(set(pools) | set(required), abilities, target_p, jitter, rng)
    picks = _Picks(num_items)
    _round_robin(picks, required, pools, scorer)
    if not picks.full:
        required_set = set(required)
        rest = [c for skill, pool in pools.items() if skill not in required_set for c in pool]
        stream = scorer.ranked(rest, nearest_needed(num_items - len(picks.picked)))
        while not picks.full and picks.take_next(stream):
            pass
    covered = {c.skill for c in picks.picked}
    return Selection(
        chosen=_ramp([_chosen(c, scorer) for c in picks.picked]),
        shortfall=num_items - len(picks.picked),
        uncovered_skills=[skill for skill in required if skill not in covered],
    )


def _eligible_by_skill(
    candidates: Sequence[Candidate], recent_ids: set[int], recent_fingerprints: set[str]
) -> dict[str, list[Candidate]]:
    """The candidates not recent, by skill; ids match as integers (hashing a UUID runs Python)."""
    pools: defaultdict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.item_id.int not in recent_ids and c.fingerprint not in recent_fingerprints:
            pools[c.skill].append(c)
    return pools


def _make_scorer(
    skills: set[str],
    abilities: Mapping[str, SkillState],
    target_p: float,
    jitter: float,
    rng: random.Random,
) -> _Scorer:
    states = {skill: skill_state(abilities, skill) for skill in sorted(skills)}
    variances = {skill: ability_variance(state, target_p) for skill, state in states.items()}
    targets = {
        skill: target_difficulty(state.theta, target_p, variances[skill])
        for skill, state in states.items()
    }
    return _Scorer(states, variances, targets, target_p, jitter, rng)


def _round_robin(
    picks: _Picks, required: list[str], pools: Mapping[str, list[Candidate]], scorer: _Scorer
) -> None:
    """One item per required skill per round, dropping a skill once its pool is exhausted."""
    per_skill = nearest_needed(-(-picks.num_items // max(len(required), 1)))
    streams = {skill: scorer.ranked(pools.get(skill, []), per_skill) for skill in required}
    active = list(required)
    while active and not picks.full:
        for skill in list(active):
            if picks.full:
                break
            if not picks.take_next(streams[skill]):
                active.remove(skill)


def nearest_needed(num_items: int) -> int:
    """How many of a pool's candidates nearest its target selection ranks for `num_items` (room
    for collisions and jitter): a caller may hand it just these, plus those it rules recent."""
    return 2 * num_items + 8


def _chosen(candidate: Candidate, scorer: _Scorer) -> ChosenItem:
    predicted = scorer.predicted(candidate)
    reason = f"{candidate.skill}: predicted success {predicted:.2f} (target {scorer.target_p:.2f})"
    if scorer.states[candidate.skill].n == 0:
        reason += "; first practice of this skill, ability estimated from the prior"
    return ChosenItem(candidate.item_id, candidate.skill, candidate.difficulty, predicted, reason)


def _ramp(chosen: list[ChosenItem]) -> list[ChosenItem]:
    return sorted(chosen, key=lambda c: (-c.predicted_success, c.difficulty, c.item_id))
