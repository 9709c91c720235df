"""A job that produced no item fails with `generation_failed`; both backends, a real server.

The model server answers every question request with a draft that cannot be used, for a
subject only a model can write (Biology, multiple choice): nothing is assigned, so the job
must fail and say why, not complete with zero items.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from practicegen.bootstrap import prepare
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import running_server


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=3, default=Mode.MALFORMED)) as server:
        yield server


async def finished_job(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(60):
        response = await http.get(f"/api/v1/jobs/{job_id}", params={"wait": 5})
        data: dict[str, Any] = response.json()["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
    raise AssertionError(f"job {job_id} did not finish")


async def test_a_job_that_produced_no_item_fails_and_says_why(
    database_url: str, fake: FakeLlm
) -> None:
    settings = make_settings(
        database_url,
        llm_base_url=fake.base_url,
        llm_model="fake-model",
        llm_timeout_s=5.0,
        llm_attempts_per_question=2,
        run_worker=True,
        job_heartbeat_s=0.2,
    )
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http,
    ):
        student = (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]
        body = {"student_id": student, "subject": "Biology", "num_items": 5}
        started = await http.post("/api/v1/practice/assign/async", json=body)
        assert started.status_code == 202, started.text
        job = await finished_job(http, started.json()["job_id"])
    assert job["status"] == "failed", job
    assert job["error_code"] == "generation_failed"
    drafts = len(fake.modes())
    assert drafts == 5 * 2  # every question slot, every attempt: all malformed
    assert "Biology" in job["error"] and "biology.general" in job["error"]
    assert f"{drafts} generated question(s) rejected (malformed: {drafts})" in job["error"]


async def test_a_sync_assign_that_produced_no_item_is_refused(database_url: str) -> None:
    # Every build of a procedural item passes its deadline, so nothing can be assigned.
    settings = make_settings(database_url, generator_timeout_s=0.000001)
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http,
    ):
        student = (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]
        body = {"student_id": student, "subject": "Algebra", "topic": "Exponents", "num_items": 3}
        response = await http.post("/api/v1/practice/assign", json=body)
    error = assert_error(response, 422, "generation_failed")
    assert error["details"]["skills"] == ["exponents.evaluate", "exponents.rules"]
    assert "Algebra / Exponents" in error["message"]
