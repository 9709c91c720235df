"""A second model checks multiple-choice keys; every generated item says how it was verified.

A real server with an in-process worker and the fake model server playing two models: the
writer ("fake-model") and the checker ("fake-checker", `PRACTICEGEN_LLM_CHECK_MODEL`). Both
backends. Also: a model key in a form the grader cannot read never reaches the bank.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from practicegen.bootstrap import prepare
from practicegen.grading.grade import read_key
from practicegen.grading.grades import AnswerKey
from practicegen.ports import AnswerPolicy, ItemType
from tests.api.factories import item_body
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import running_server

WRITER, CHECKER = "fake-model", "fake-checker"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=5)) as server:
        yield server


@asynccontextmanager
async def service(
    database_url: str, fake: FakeLlm, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        database_url,
        llm_base_url=fake.base_url,
        llm_model=WRITER,
        llm_timeout_s=5.0,
        llm_attempts_per_question=2,
        llm_self_consistency_samples=3,
        run_worker=True,
        job_heartbeat_s=0.2,
        **overrides,
    )
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http,
    ):
        yield http


async def run_job(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    student = (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]
    started = await http.post("/api/v1/practice/assign/async", json={"student_id": student, **body})
    assert started.status_code == 202, started.text
    for _ in range(60):
        response = await http.get(f"/api/v1/jobs/{started.json()['job_id']}", params={"wait": 5})
        job: dict[str, Any] = response.json()["data"]
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
    raise AssertionError("the job did not finish")


async def provenances(http: httpx.AsyncClient, job: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for assigned in job["result"]["items"]:
        item = (await http.get(f"/api/v1/items/{assigned['item_id']}")).json()["data"]
        found.append(item["provenance"])
    return found


def answering_models(fake: FakeLlm) -> set[str]:
    return {r.body["model"] for r in fake.requests if r.mode is None}


async def test_a_check_model_that_disagrees_rejects_every_key(
    database_url: str, fake: FakeLlm
) -> None:
    fake.answers_by_model = {CHECKER: "B"}  # the writer's key is "A", and it agrees with it
    async with service(database_url, fake, llm_check_model=CHECKER) as http:
        job = await run_job(http, subject="Biology", num_items=3)
    assert job["status"] == "failed" and job["error_code"] == "generation_failed", job
    assert "check_model_disagrees: 6" in job["error"]  # 3 questions, 2 attempts each
    assert answering_models(fake) == {CHECKER}


async def test_an_item_the_check_model_agrees_with_says_how_it_was_checked(
    database_url: str, fake: FakeLlm
) -> None:
    fake.answers_by_model = {CHECKER: "A", WRITER: "B"}  # only the checker is asked
    async with service(database_url, fake, llm_check_model=CHECKER) as http:
        job = await run_job(http, subject="Biology", num_items=3)
        assert job["status"] == "completed", job
        found = await provenances(http, job)
    assert len(found) == 3
    for provenance in found:
        verification = provenance["verification"]
        assert verification["method"] == "self_consistency"
        assert verification["check_model"] == CHECKER and "check_model" in verification["checks"]
        assert verification["votes"] == {"a": 3}
    assert answering_models(fake) == {CHECKER}


async def test_the_check_models_tokens_count_towards_the_tenants_spending(
    database_url: str, fake: FakeLlm
) -> None:
    """A check model answers each question several times: its tokens are the tenant's too, and
    count against the daily budget."""
    fake.answers_by_model = {CHECKER: "A"}
    async with service(database_url, fake, llm_check_model=CHECKER) as http:
        job = await run_job(http, subject="Biology", num_items=2)
    assert job["status"] == "completed", job
    spent = job["result"]["metadata"]["generation"]["token_usage"]["total_tokens"]
    assert fake.tokens_by_model[CHECKER] > 0
    assert spent == fake.tokens_by_model[WRITER] + fake.tokens_by_model[CHECKER]


async def test_a_check_model_reporting_negative_tokens_takes_none_of_the_writers_back(
    database_url: str, fake: FakeLlm
) -> None:
    """A hostile (or broken) model's usage below zero would cancel what the writer spent and
    slip the job under the tenant's budget: each count is taken as at least zero."""
    fake.answers_by_model = {CHECKER: "A"}
    negative = {
        "prompt_tokens": -(10**9),
        "completion_tokens": -(10**9),
        "total_tokens": -(2 * 10**9),
    }
    fake.usage_by_model = {CHECKER: negative}
    async with service(database_url, fake, llm_check_model=CHECKER) as http:
        job = await run_job(http, subject="Biology", num_items=2)
    assert job["status"] == "completed", job
    spent = job["result"]["metadata"]["generation"]["token_usage"]
    assert fake.tokens_by_model[CHECKER] < 0 < fake.tokens_by_model[WRITER]
    assert spent["total_tokens"] == fake.tokens_by_model[WRITER]
    assert min(spent.values()) > 0


async def test_without_a_check_model_the_writer_checks_itself(
    database_url: str, fake: FakeLlm
) -> None:
    async with service(database_url, fake) as http:
        job = await run_job(http, subject="Biology", num_items=2)
        assert job["status"] == "completed", job
        found = await provenances(http, job)
    for provenance in found:
        assert provenance["verification"]["method"] == "self_consistency"
        assert provenance["verification"]["check_model"] == WRITER
        assert provenance["verification"]["checks"] == ["self_consistency"]
    assert answering_models(fake) == {WRITER}


async def test_a_model_key_the_grader_cannot_read_is_rejected(
    database_url: str, fake: FakeLlm
) -> None:
    fake.script(Mode.UNREADABLE_KEY, Mode.UNREADABLE_KEY, Mode.UNREADABLE_KEY)
    async with service(database_url, fake) as http:
        rows = [item_body(stem="Solve $3x + 1 = 7$.", answer="x = 2")]
        document = {"format": "practicegen-bank", "version": 1, "items": rows}
        assert (await http.post("/api/v1/items/import", json=document)).status_code == 200
        job = await run_job(http, subject="Algebra", topic="Linear Equations", num_items=4)
        assert job["status"] == "completed", job
        found = await provenances(http, job)
    generation = job["result"]["metadata"]["generation"]
    assert generation["llm"]["rejections"].get("malformed") == 3
    for assigned, provenance in zip(job["result"]["items"], found, strict=True):
        key = AnswerKey(ItemType(assigned["type"]), assigned["answer"], AnswerPolicy.SOLUTION_SET)
        read_key(key)  # raises if the grader cannot read it
        if assigned["source"] == "llm":
            assert provenance["verification"]["method"] == "sympy"


def test_the_check_model_must_be_another_model() -> None:
    url = "sqlite+aiosqlite:///unused.db"
    with pytest.raises(ValidationError, match="other than the writer"):
        make_settings(url, llm_base_url="http://127.0.0.1:1/v1", llm_check_model="gpt-4o-mini")
    with pytest.raises(ValidationError, match="needs PRACTICEGEN_LLM_CHECK_MODEL"):
        make_settings(url, llm_check_base_url="http://127.0.0.1:2/v1")
    other_server = make_settings(
        url, llm_check_model="gpt-4o-mini", llm_check_base_url="http://127.0.0.1:2/v1"
    )
    assert other_server.llm_check_model == other_server.llm_model  # same name, another server


async def test_a_check_model_that_cannot_be_reached_is_no_verdict(
    database_url: str, fake: FakeLlm
) -> None:
    unreachable = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    async with service(
        database_url, fake, llm_check_model=CHECKER, llm_check_base_url=unreachable
    ) as http:
        job = await run_job(http, subject="Biology", num_items=1)
    assert job["status"] == "failed" and job["error_code"] == "generation_failed", job
    assert "server_error: 2" in job["error"] and "check_model_disagrees" not in job["error"]
    assert answering_models(fake) == set()  # the writer was never asked to check itself
