"""Async jobs against an adversarial model: what a student reads is what was verified.

A real server (both backends) with an in-process worker generates with the scriptable model
server in `tests/support/fake_llm.py`, which plants one attack per draft: stems that differ
from the problem in sign, number, variable or operation (in LaTeX or bare text), a word
problem naming a number the problem lacks, a question of another skill, a problem too heavy
to check in time, a model too slow to answer. Each is shown to stay out of the assignment and
the bank, and to be counted in the job's `metadata.generation.llm.rejections` under its own
reason; a student who answers the true solution of every accepted stem (known to the model
server, which wrote it) is graded correct through `POST /api/v1/assignments/{id}/responses`.
The settings of the two check deadlines refuse values out of range.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pydantic
import pytest

from practicegen.config import Settings
from practicegen.generation.procedural.profile_fit import misfit
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.generation.stem import stem_mismatch
from practicegen_client import AsyncClient
from tests.conftest import ADMIN_KEY
from tests.generation.test_llm_jobs import llm_settings, seed_short_bank, serve
from tests.support.fake_llm import HONEST, FakeLlm, Mode, running_fake_llm

REQUEST: dict[str, Any] = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 8}
STEM_ATTACKS = (
    Mode.STEM_SIGN,
    Mode.STEM_NUMBER,
    Mode.STEM_VARIABLE,
    Mode.STEM_OPERATION,
    Mode.STEM_BARE_SIGN,
    Mode.WORDS_NUMBER,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=23, retry_after_s=0.05)) as server:
        yield server


async def bank_llm_items(base_url: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        response = await http.get("/api/v1/items", params={"limit": 100})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["data"]["items"]
    return [item for item in items if item["source"] == "llm"]


async def test_stems_that_are_not_the_problem_and_off_skill_questions_never_reach_a_student(
    database_url: str, fake: FakeLlm
) -> None:
    fake.script(*STEM_ATTACKS, Mode.OFF_SKILL)
    fake.mix = {Mode.WORDS: 0.3, Mode.BARE: 0.3}  # the rest: CORRECT
    # grading's own deadline is not under test here: a loaded machine's first gradings are slow
    overrides = llm_settings(database_url, fake, llm_attempts_per_question=6, grader_timeout_s=20)
    async with (
        await serve(database_url, **overrides) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, **REQUEST)
        assignment = await job.wait(timeout=60)
        status = await job.status()
        assert status.result is not None
        llm = status.result["metadata"]["generation"]["llm"]
        modes = fake.modes()
        assert llm["rejections"].get("stem_mismatch", 0) == sum(map(modes.count, STEM_ATTACKS))
        assert llm["rejections"].get("off_skill", 0) == modes.count(Mode.OFF_SKILL) == 1
        assert all(modes.count(attack) == 1 for attack in STEM_ATTACKS)
        accepted = [i for i in assignment.items if i.source == "llm"]
        assert len(accepted) == llm["accepted"] == sum(map(modes.count, HONEST)) == 6
        for assigned in accepted:  # every stem was written honestly: the server knows its truth
            truth = fake.truths[assigned.stem]
            graded = await client.answer(assignment.assignment_id, assigned.position, truth)
            assert graded.correct, (assigned.stem, truth, graded)
        for stored in await bank_llm_items(server.base_url):
            problem = stored["provenance"]["problem"]
            assert stored["stem"] in fake.truths
            assert stem_mismatch(stored["stem"], problem) is None
            assert misfit(PROFILES[stored["skill"]], "equation", problem) is None


@pytest.mark.parametrize(
    ("attack", "reason", "overrides"),
    [
        (Mode.SLOW, "model_timeout", {"llm_timeout_s": 1.5}),
        (Mode.HEAVY_CHECK, "check_timeout", {"llm_check_timeout_s": 2.0}),
        (
            Mode.HEAVY_CHECK,
            "check_queue",
            {"generator_workers": 1, "llm_check_timeout_s": 1.0, "llm_check_queue_s": 0.2},
        ),
    ],
    ids=["model_timeout", "check_timeout", "check_queue"],
)
async def test_each_deadline_is_reported_as_its_own_stage(
    database_url: str, fake: FakeLlm, attack: Mode, reason: str, overrides: dict[str, Any]
) -> None:
    """A slow model, a check past its deadline and a check that never got a process differ."""
    fake.slow_s = 3.0
    fake.script(*[attack] * (3 if reason == "check_queue" else 1))
    settings = llm_settings(database_url, fake, llm_attempts_per_question=6, **overrides)
    async with (
        await serve(database_url, **settings) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, "Algebra", 5, topic="Linear Equations")
        assignment = await job.wait(timeout=60)
        status = await job.status()
        assert status.result is not None
        rejections: dict[str, int] = status.result["metadata"]["generation"]["llm"]["rejections"]
        planted = fake.modes().count(attack)
        if reason == "check_queue":
            # Each heavy check holds the one process for its whole deadline, so the third waits
            # at least two deadlines (past its own) and is counted as waiting; so may drafts
            # queued behind them. A heavy check that got the process at once ran out of time;
            # on a loaded machine even the first may wait past the queue's deadline.
            assert rejections.get("check_queue", 0) >= 1
            assert rejections["check_queue"] + rejections.get("check_timeout", 0) >= planted
            assert set(rejections) <= {"check_queue", "check_timeout"}
        else:
            assert rejections == {reason: planted}, (rejections, fake.modes())
        accepted = [i for i in assignment.items if i.source == "llm"]
        assert len(assignment.items) == 5 and accepted
        for assigned in accepted:
            graded = await client.answer(
                assignment.assignment_id, assigned.position, fake.truths[assigned.stem]
            )
            assert graded.correct


async def test_skills_the_model_cannot_write_go_straight_to_the_procedural_generators(
    database_url: str, fake: FakeLlm
) -> None:
    """The model writes equations; exponent rules are expressions: asking would waste calls."""
    async with (
        await serve(database_url, **llm_settings(database_url, fake)) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, "Algebra", 4, topic="Exponents")
        assignment = await job.wait(timeout=60)
        assert len(assignment.items) == 4
        assert {i.skill for i in assignment.items} <= {"exponents.rules", "exponents.evaluate"}
        assert {i.source for i in assignment.items} == {"procedural"}
        assert fake.requests == []
        status = await job.status()
        assert status.result is not None
        generation = status.result["metadata"]["generation"]
        assert generation["llm"]["requested"] == 0 and generation["llm"]["rejections"] == {}
        assert generation["procedural_replacements"] == 4


@pytest.mark.parametrize("name", ["llm_check_timeout_s", "llm_check_queue_s"])
@pytest.mark.parametrize("value", [0, -1.0, 601])
def test_the_check_deadlines_refuse_values_out_of_range(name: str, value: float) -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings.model_validate({name: value})
    assert getattr(Settings.model_validate({name: 0.25}), name) == 0.25
