"""Async jobs that generate with a language model: a real server, a real OpenAI-style server.

The service runs on uvicorn with an in-process worker and `PRACTICEGEN_LLM_BASE_URL` pointing
at the scriptable chat server in `tests/support/fake_llm.py`; both backends. Checked here: a
faulty model (wrong keys, malformed JSON, 429s) never puts a wrong item in an assignment and
the job's metadata counts each rejection; the guide's request on a short bank completes with
items marked `llm`, and a second one generates fewer; progress says "Generating AI question k
of n..."; the daily token budget fails a job before any model call; the sync endpoint never
calls the model but hands such work to a job; a long-poll answers a running job's progress
(taken from the change signal) exactly as a read of the job would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sympy

from practicegen.bootstrap import prepare
from practicegen.generation.procedural import mathparse as mp
from practicegen.grading.grade import grade_answer
from practicegen.grading.grades import AnswerKey
from practicegen.ports import AnswerPolicy, ItemType
from practicegen_client import AsyncClient, StatusMessage, ValidationError
from tests.api.factories import item_body
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import RunningServer, running_server

FAST_JOBS: dict[str, Any] = {"run_worker": True, "job_heartbeat_s": 0.2}
GUIDE: dict[str, Any] = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 5}


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=11, retry_after_s=0.05)) as server:
        yield server


def llm_settings(database_url: str, fake: FakeLlm, **overrides: Any) -> dict[str, Any]:
    return {
        "llm_base_url": fake.base_url,
        "llm_model": "fake-model",
        "llm_timeout_s": 5.0,
        **FAST_JOBS,
        **overrides,
    }


async def serve(database_url: str, **overrides: Any) -> Any:
    settings = make_settings(database_url, **overrides)
    await prepare(settings)
    return running_server(settings)


async def seed_short_bank(client: AsyncClient) -> None:
    """Two linear-equation items: the guide's 5-item request must generate the rest."""
    rows = [
        item_body(stem=f"Solve ${k + 2}x + 1 = {2 * (k + 2) + 1}$.", answer="x = 2")
        for k in range(2)
    ]
    report = await client.import_items(rows)
    assert report.imported == 2


async def stored_item(server: RunningServer, item_id: uuid.UUID) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
        response = await http.get(f"/api/v1/items/{item_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def assert_really_correct(item: dict[str, Any]) -> None:
    """Solve the item's problem here with sympy and grade its key against that solution."""
    x = sympy.Symbol("x")
    lhs, rhs = mp.sides(str(item["provenance"]["problem"]))
    solutions = sympy.solve(sympy.Eq(lhs, rhs), x)
    assert len(solutions) == 1, item
    key = AnswerKey(ItemType.EQUATION, f"x = {solutions[0]}", AnswerPolicy.SOLUTION_SET)
    assert grade_answer(item["answer"], key).correct, item


async def test_a_faulty_model_never_reaches_a_student(database_url: str, fake: FakeLlm) -> None:
    fake.script(Mode.WRONG, Mode.MALFORMED, Mode.RATE_LIMITED, Mode.SERVER_ERROR)
    fake.mix = {Mode.WRONG: 0.3, Mode.MALFORMED: 0.1, Mode.RATE_LIMITED: 0.1}
    overrides = llm_settings(database_url, fake)
    async with (
        await serve(database_url, **overrides) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, **GUIDE)
        assignment = await job.wait(timeout=60)
        assert len(assignment.items) == 5
        for assigned in assignment.items:
            if assigned.source in ("llm", "procedural"):
                stored = await stored_item(server, assigned.item_id)
                assert stored["status"] == "active"
                if assigned.source == "llm":
                    assert stored["provenance"]["verification"]["ok"] is True
                    assert_really_correct(stored)
        status = await job.status()
        assert status.result is not None
        generation = status.result["metadata"]["generation"]
        modes = fake.modes()
        rejections = generation["llm"]["rejections"]
        assert rejections.get("wrong_answer", 0) == modes.count(Mode.WRONG) > 0
        assert rejections.get("malformed", 0) == modes.count(Mode.MALFORMED) > 0
        assert rejections.get("server_error", 0) == modes.count(Mode.SERVER_ERROR) > 0
        assert generation["llm"]["requested"] == 5 - assignment.bank_count
        made = generation["llm"]["accepted"] + generation["procedural_replacements"]
        assert made == assignment.generated_count == 5 - assignment.bank_count
        assert generation["token_usage"]["total_tokens"] > 0


async def test_the_guide_request_generates_then_the_bank_serves(
    database_url: str, fake: FakeLlm
) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 0.3  # slow enough to see each question start
    async with (
        await serve(database_url, **llm_settings(database_url, fake)) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        await seed_short_bank(client)
        first_student = (await client.create_student()).student_id
        job = await client.assign_async(first_student, **GUIDE)
        messages = [m async for m in job.events()]
        progress = [m for m in messages if isinstance(m, StatusMessage)]
        assert [m.progress_percent for m in progress] == sorted(
            m.progress_percent for m in progress
        )
        said = [m.progress_message or "" for m in progress]
        assert any(s.startswith("Generating AI question") and s.endswith(" of 3...") for s in said)
        first = await job.wait(timeout=30)
        assert first.generated_count == 3 and first.bank_count == 2
        assert sorted(i.source for i in first.items).count("llm") == 3
        calls = len(fake.requests)
        second_student = (await client.create_student()).student_id
        second = await (await client.assign_async(second_student, **GUIDE)).wait(timeout=30)
        assert len(second.items) == 5
        assert second.generated_count < first.generated_count
        assert len(fake.requests) - calls < calls


async def test_the_daily_token_budget_fails_a_job_before_any_call(
    database_url: str, fake: FakeLlm
) -> None:
    overrides = llm_settings(database_url, fake, llm_daily_token_budget=1_000)
    async with (
        await serve(database_url, **overrides) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, **GUIDE)
        with pytest.raises(Exception) as failed:
            await job.wait(timeout=30)
        status = await job.status()
        assert status.status.value == "failed"
        assert status.error_code == "llm_token_budget_exceeded"
        assert "PRACTICEGEN_LLM_DAILY_TOKEN_BUDGET" in (status.error or "")
        assert status.attempt == 1  # permanent: not retried
        assert fake.requests == [] and "budget" in str(failed.value)


async def test_the_sync_endpoint_hands_model_work_to_a_job(
    database_url: str, fake: FakeLlm
) -> None:
    async with (
        await serve(database_url, **llm_settings(database_url, fake)) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        rows = [
            item_body(topic="Word Problems", skill="word_problems.ages", stem=f"Ages {k}?")
            for k in range(2)
        ]
        assert (await client.import_items(rows)).imported == 2
        student = (await client.create_student()).student_id
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        body = {"student_id": str(student), "subject": "Algebra", "topic": "Word Problems"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            answer = await http.post("/api/v1/practice/assign", json=body | {"num_items": 4})
        assert answer.status_code == 202, answer.text
        assert fake.requests == []  # the sync request itself never called the model
        assignment = await client.job(answer.json()["job_id"]).wait(timeout=30)
        assert len(assignment.items) == 4 and assignment.generated_count == 2
        assert {i.source for i in assignment.items} >= {"llm"}


def biology_rows() -> list[dict[str, Any]]:
    return [
        item_body(
            subject="Biology",
            topic="Cells",
            skill="cells.organelles",
            type="multiple_choice",
            answer="B",
            answer_policy="choice",
            stem="Which organelle holds the cell's DNA?",
            choices=[
                {"id": "A", "text": "The ribosome"},
                {"id": "B", "text": "The nucleus"},
                {"id": "C", "text": "The vacuole"},
            ],
            hints=["Think of the control centre."],
            solution="The nucleus holds the DNA.",
        )
    ]


async def test_other_subjects_get_self_consistent_multiple_choice(
    database_url: str, fake: FakeLlm
) -> None:
    fake.script(Mode.WRONG, Mode.CORRECT, Mode.MALFORMED)
    overrides = llm_settings(database_url, fake, llm_self_consistency_samples=3)
    async with (
        await serve(database_url, **overrides) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        assert (await client.import_items(biology_rows())).imported == 1
        student = (await client.create_student()).student_id
        job = await client.assign_async(student, "Biology", 3)
        assignment = await job.wait(timeout=30)
        generated = [i for i in assignment.items if i.source == "llm"]
        assert len(assignment.items) == 3 and len(generated) == 2
        for assigned in generated:
            stored = await stored_item(server, assigned.item_id)
            assert stored["type"] == "multiple_choice" and stored["answer"] == "A"
            verification = stored["provenance"]["verification"]
            assert verification["checks"] == ["self_consistency"]
            assert verification["votes"] == {"a": 3}
        status = await job.status()
        assert status.result is not None
        rejections = status.result["metadata"]["generation"]["llm"]["rejections"]
        assert rejections == {"inconsistent": 1, "malformed": 1}  # the wrong key, the bad JSON


async def test_without_a_model_a_subject_only_a_model_could_serve_is_refused(
    database_url: str,
) -> None:
    async with (
        await serve(database_url, **FAST_JOBS) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
    ):
        assert (await client.import_items(biology_rows())).imported == 1
        student = (await client.create_student()).student_id
        with pytest.raises(ValidationError) as refused:
            await client.assign_async(student, "Biology", 3)
        assert refused.value.code == "generation_unavailable"
        assert refused.value.details["missing"] == "PRACTICEGEN_LLM_BASE_URL"
        with pytest.raises(ValidationError):
            await client.assign(student, "Biology", 3)
        assert len((await client.assign(student, "Biology", 1)).items) == 1


async def test_a_long_poll_answers_a_change_exactly_as_a_read_would(
    database_url: str, fake: FakeLlm
) -> None:
    """Progress is answered from the change signal, not a read: it must not differ from one."""
    fake.default, fake.slow_s = Mode.SLOW, 1.0
    async with (
        await serve(database_url, **llm_settings(database_url, fake)) as server,
        AsyncClient(server.base_url, ADMIN_KEY) as client,
        httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
        ) as http,
    ):
        await seed_short_bank(client)
        student = (await client.create_student()).student_id
        created = await http.post(
            "/api/v1/practice/assign/async", json={"student_id": str(student), **GUIDE}
        )
        assert created.status_code == 202, created.text
        url, tag, compared, seen = created.headers["Location"], "", 0, []
        while True:
            polled = await http.get(url, params={"wait": 10}, headers={"If-None-Match": tag})
            assert polled.status_code == 200, polled.text
            tag, data = polled.headers["ETag"], polled.json()["data"]
            seen.append(data["progress_percent"])
            if data["status"] != "processing":
                if data["status"] == "completed":
                    break
                continue
            read = (await http.get(url)).json()["data"]
            if read["seq"] == data["seq"]:
                assert read == data
                compared += 1
        assert compared >= 2, seen
        assert seen == sorted(seen)
