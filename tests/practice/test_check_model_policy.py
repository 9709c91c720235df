"""A tenant that requires a check model gets no multiple-choice item on self-consistency alone.

A real server with an in-process worker and the fake model server playing the writer and, when
configured, the checker. Both backends. With no check model on the node the tenant's assigns
that need such items are refused up front (a job checks again when it runs); behind that, the
filler itself asks the model nothing for such a tenant, as the last test shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.bootstrap import prepare
from practicegen.clock import utcnow
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.generation.llm_filler import LlmFiller
from practicegen.generation.setup import create_filler, create_job_filler
from practicegen.ports import GapRequest
from practicegen.practice.learner import expected_p_correct
from practicegen.tenants.service import set_require_check_model
from tests.api.factories import choice_item_body
from tests.api.test_errors import assert_error
from tests.conftest import make_settings
from tests.practice.test_check_model import (
    CHECKER,
    WRITER,
    answering_models,
    provenances,
    run_job,
    service,
)
from tests.support.fake_llm import FakeLlm, running_fake_llm

SETTINGS = "/api/v1/tenant/settings"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=5)) as server:
        yield server


async def require_check_model(http: httpx.AsyncClient, value: bool) -> None:
    response = await http.patch(SETTINGS, json={"require_check_model": value})
    assert response.status_code == 200, response.text


async def refused(http: httpx.AsyncClient, route: str, body: dict[str, Any]) -> None:
    error = assert_error(await http.post(route, json=body), 422, "generation_unavailable")
    assert error["details"]["missing"] == "PRACTICEGEN_LLM_CHECK_MODEL", error
    assert "check model" in error["message"], error


async def biology_in_bank(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/api/v1/items", params={"subject": "Biology"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


async def test_without_a_check_model_the_assign_is_refused_up_front(
    database_url: str, fake: FakeLlm
) -> None:
    async with service(database_url, fake) as http:
        await require_check_model(http, True)
        student = (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]
        body = {"student_id": student, "subject": "Biology", "num_items": 3}
        await refused(http, "/api/v1/practice/assign/async", body)
        assert await biology_in_bank(http) == []
        # with one item in the bank, the sync assign too would hand the rest to a job
        item = choice_item_body(subject="Biology", topic="Cells", skill="cells.organelles")
        created = await http.post("/api/v1/items", json=item)
        assert created.status_code == 201, created.text
        for route in ("/api/v1/practice/assign/async", "/api/v1/practice/assign"):
            await refused(http, route, body)
        # what the bank holds is still assigned: only writing new items needs the check model
        one = await http.post("/api/v1/practice/assign", json=body | {"num_items": 1})
        assert one.status_code == 200, one.text
        assigned = [i["item_id"] for i in one.json()["data"]["items"]]
        assert assigned == [created.json()["data"]["item_id"]]
        assert len(await biology_in_bank(http)) == 1
    assert fake.requests == []  # the model was never asked


async def test_with_a_check_model_that_agrees_items_are_accepted(
    database_url: str, fake: FakeLlm
) -> None:
    fake.answers_by_model = {CHECKER: "A"}
    async with service(database_url, fake, llm_check_model=CHECKER) as http:
        await require_check_model(http, True)
        job = await run_job(http, subject="Biology", num_items=2)
        assert job["status"] == "completed", job
        found = await provenances(http, job)
        assert len(await biology_in_bank(http)) == 2
    assert len(found) == 2
    for provenance in found:
        assert provenance["verification"]["check_model"] == CHECKER
        assert "check_model" in provenance["verification"]["checks"]
    assert answering_models(fake) == {CHECKER}


async def test_with_the_flag_off_the_writer_still_checks_itself(
    database_url: str, fake: FakeLlm
) -> None:
    async with service(database_url, fake) as http:
        await require_check_model(http, True)
        await require_check_model(http, False)
        job = await run_job(http, subject="Biology", num_items=2)
        assert job["status"] == "completed", job
        found = await provenances(http, job)
    for provenance in found:
        assert provenance["verification"]["check_model"] == WRITER
        assert provenance["verification"]["checks"] == ["self_consistency"]


async def test_the_filler_asks_nothing_when_the_tenant_requires_a_check_model(
    database_url: str, fake: FakeLlm
) -> None:
    settings = make_settings(database_url, llm_base_url=fake.base_url, llm_model=WRITER)
    await prepare(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    procedural = create_filler(settings)
    filler = create_job_filler(settings, sessionmaker, procedural)
    assert isinstance(filler, LlmFiller) and filler.unchecked("Biology")
    assert not filler.unchecked("Algebra")  # equations are checked by sympy
    gap = GapRequest(
        tenant_id=DEFAULT_TENANT_ID,
        subject="Biology",
        topic="Cells",
        skills=["cells.organelles"],
        count=3,
        difficulty=0.0,
        predict=partial(expected_p_correct, 0.0, variance=1.0),
        target_p=0.7,
        avoid_fingerprints=frozenset(),
    )

    async def progress(_percent: int, _message: str) -> None:
        return None

    try:
        async with sessionmaker() as session, session.begin():
            await set_require_check_model(session, DEFAULT_TENANT_ID, True, now=utcnow())
        async with sessionmaker() as session:
            filled = await filler.fill(session, gap, progress)
    finally:
        await filler.aclose()
        await procedural.aclose()
        await engine.dispose()
    assert filled.items == []
    assert filled.unproduced == {"cells.organelles": 3}
    assert filled.report["llm"]["rejections"] == {"check_model_required": 3}
    assert filled.report["llm"]["requested"] == 3 and filled.report["llm"]["accepted"] == 0
    assert fake.requests == []
