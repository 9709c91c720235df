"""The guide's sync assign, reading assignments and answering items, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.items.schemas import ItemContent
from practicegen.items.service import to_row
from tests.api.factories import choice_item_body, item_body
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.support.server import RunningServer


async def seed_bank(client: httpx.AsyncClient, per_skill: int = 6) -> None:
    rows = []
    for skill, level_shift in (
        ("linear_equations.one_step", -1.0),
        ("linear_equations.two_step", 0.0),
    ):
        for k in range(per_skill):
            a = k + 2
            rows.append(
                item_body(
                    skill=skill,
                    stem=f"Solve ${a}x = {a * (k + 3)}$ ({skill}).",
                    answer=f"x = {k + 3}",
                    difficulty=level_shift + 0.3 * k,
                )
            )
    rows.append(choice_item_body(subject="Algebra", topic="Expressions", skill="expressions.order"))
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    report = (await client.post("/api/v1/items/import", json=document)).json()["data"]
    assert report["imported"] == len(rows), report


async def new_student(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/students", json={"display_name": "Sam"})
    student_id: str = response.json()["data"]["student_id"]
    return student_id


async def assign(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/practice/assign", json=body)


async def test_guide_request_returns_num_items_fitting_items(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    response = await assign(
        client, student_id=student, subject="Algebra", num_items=5, topic="Linear Equations"
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data["items"]) == 5 and data["bank_count"] == 5 and data["generated_count"] == 0
    assert data["warnings"] == []
    assert [i["position"] for i in data["items"]] == [1, 2, 3, 4, 5]
    for item in data["items"]:
        assert item["topic"] == "Linear Equations"
        assert 0 < item["predicted_success"] < 1 and item["skill"] in item["reason"]
        assert item["answer"] is not None  # a server key sees keys
    fetched = (await client.get(f"/api/v1/assignments/{data['assignment_id']}")).json()["data"]
    assert fetched == data


async def test_goal_tags_are_covered(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    goal = await client.post(
        "/api/v1/goals",
        json={"name": "one step", "subject": "Algebra", "skills": ["linear_equations.one_step"]},
    )
    goal_id = goal.json()["data"]["goal_id"]
    data = (
        await assign(
            client, student_id=student, subject="Algebra", num_items=3, goal_tags=[goal_id]
        )
    ).json()["data"]
    assert {i["skill"] for i in data["items"]} == {"linear_equations.one_step"}
    assert data["goal_tags"] == [goal_id]


async def test_short_bank_is_filled_by_generators_which_join_the_bank(
    client: httpx.AsyncClient,
) -> None:
    await seed_bank(client, per_skill=1)
    body = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 5}
    first = (await assign(client, student_id=await new_student(client), **body)).json()["data"]
    assert len(first["items"]) == 5 and first["warnings"] == []
    assert first["bank_count"] == 2 and first["generated_count"] == 3
    generated = [i for i in first["items"] if i["source"] == "procedural"]
    assert len(generated) == 3 and all(i["topic"] == "Linear Equations" for i in generated)
    stored = await client.get("/api/v1/items", params={"source": "procedural"})
    assert len(stored.json()["data"]["items"]) == 3
    second = (await assign(client, student_id=await new_student(client), **body)).json()["data"]
    assert len(second["items"]) == 5 and second["generated_count"] == 0


async def test_short_bank_without_a_generator_is_a_clear_error(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    rows = [
        item_body(topic="Word Problems", skill="word_problems.ages", stem=f"Ages {k}?")
        for k in range(2)
    ]
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    assert (await client.post("/api/v1/items/import", json=document)).status_code == 200
    student = await new_student(client)
    body = {"student_id": student, "subject": "Algebra", "topic": "Word Problems", "num_items": 5}
    for path in ("/api/v1/practice/assign", "/api/v1/practice/assign/async"):
        refused = await client.post(path, json=body)
        error = assert_error(refused, 422, "generation_unavailable")
        assert error["details"] == {
            "available": 2,
            "requested": 5,
            "missing": "PRACTICEGEN_LLM_BASE_URL",
        }
        assert "PRACTICEGEN_LLM_BASE_URL" in error["message"]
    jobs = (await client.get("/api/v1/jobs")).json()["data"]
    assert jobs["items"] == []  # refused before any job existed
    fits = await assign(client, **(body | {"num_items": 2}))
    assert fits.status_code == 200 and len(fits.json()["data"]["items"]) == 2


@pytest.mark.parametrize("path", ["/api/v1/practice/assign", "/api/v1/practice/assign/async"])
async def test_bad_requests_are_clear_4xx(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer, path: str
) -> None:
    async def post(**body: Any) -> httpx.Response:
        return await client.post(path, json=body)

    await seed_bank(client)
    student = await new_student(client)
    base = {"student_id": student, "subject": "Algebra"}
    assert_error(await post(**base, num_items=0), 422, "num_items_out_of_range")
    assert_error(await post(**base, num_items=21), 422, "num_items_out_of_range")
    assert_error(
        await post(**(base | {"student_id": str(uuid.uuid4())}), num_items=3),
        404,
        "student_not_found",
    )
    unknown = await post(**(base | {"subject": "Alchemy"}), num_items=3)
    assert "Algebra" in assert_error(unknown, 422, "unknown_subject")["details"]["known_subjects"]
    assert_error(await post(**base, topic="Knitting", num_items=3), 422, "unknown_topic")
    assert_error(
        await post(**base, num_items=3, goal_tags=[str(uuid.uuid4())]), 422, "unknown_goal"
    )
    assert_error(await post(**base, num_items="five"), 422, "validation_error")
    other = bearer(await new_tenant_key(client, server.settings))
    foreign_goal = await anonymous.post(
        "/api/v1/goals",
        headers=other,
        json={"name": "theirs", "subject": "Algebra", "skills": ["linear_equations.one_step"]},
    )
    goal_tag = foreign_goal.json()["data"]["goal_id"]
    assert_error(await post(**base, num_items=3, goal_tags=[goal_tag]), 422, "unknown_goal")
    their_view = await anonymous.post(path, headers=other, json=base | {"num_items": 3})
    assert_error(their_view, 404, "student_not_found")
    for caller, headers in ((client, {}), (anonymous, other)):
        jobs = await caller.get("/api/v1/jobs", headers=headers)
        assert jobs.json()["data"]["items"] == []  # every refusal came before a job existed


async def test_student_token_assigns_for_itself_without_keys(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await seed_bank(client)
    student, other = await new_student(client), await new_student(client)
    token = (await client.post("/api/v1/tokens", json={"student_id": student})).json()["data"][
        "token"
    ]
    as_student = bearer(token)
    response = await anonymous.post(
        "/api/v1/practice/assign",
        headers=as_student,
        json={"student_id": student, "subject": "Algebra", "num_items": 4},
    )
    data = response.json()["data"]
    assert all(i["answer"] is None and i["solution"] is None for i in data["items"])
    assert all(c["misconception"] is None for i in data["items"] for c in i["choices"])
    refused = await anonymous.post(
        "/api/v1/practice/assign",
        headers=as_student,
        json={"student_id": other, "subject": "Algebra", "num_items": 4},
    )
    assert_error(refused, 404, "student_not_found")
    theirs = (await assign(client, student_id=other, subject="Algebra", num_items=2)).json()["data"]
    assert_error(
        await anonymous.get(f"/api/v1/assignments/{theirs['assignment_id']}", headers=as_student),
        404,
        "assignment_not_found",
    )


async def test_answers_are_graded_and_teach_the_model(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    data = (
        await assign(
            client, student_id=student, subject="Algebra", topic="Linear Equations", num_items=3
        )
    ).json()["data"]
    first, second = data["items"][0], data["items"][1]
    url = f"/api/v1/assignments/{data['assignment_id']}/responses"
    right = await client.post(url, json={"position": 1, "answer": first["answer"].split("=")[1]})
    assert right.status_code == 201, right.text
    graded = right.json()["data"]
    assert graded["correct"] is True and graded["feedback_code"] == "correct"
    assert graded["ability"] > 0  # a correct first answer raises the prior of 0
    wrong = (await client.post(url, json={"position": 2, "answer": "x = 999"})).json()["data"]
    assert wrong["correct"] is False and wrong["correct_answer"] == second["answer"]
    assert_error(
        await client.post(url, json={"position": 1, "answer": "1"}), 409, "already_answered"
    )
    assert_error(
        await client.post(url, json={"position": 9, "answer": "1"}), 422, "no_such_position"
    )
    after = (await client.get(f"/api/v1/assignments/{data['assignment_id']}")).json()["data"]
    assert after["items"][0]["response"]["correct"] is True
    item = (await client.get(f"/api/v1/items/{first['item_id']}")).json()["data"]
    assert item["difficulty"] < first["difficulty"]


async def test_hostile_answers_do_not_hang_the_service(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    data = (
        await assign(
            client, student_id=student, subject="Algebra", topic="Linear Equations", num_items=3
        )
    ).json()["data"]
    url = f"/api/v1/assignments/{data['assignment_id']}/responses"
    hostile = ["9**9**9", "__import__('os').system('true')", "x" * 1999]
    results = await asyncio.wait_for(
        asyncio.gather(
            *(client.post(url, json={"position": p, "answer": a}) for p, a in enumerate(hostile, 1))
        ),
        timeout=20,
    )
    for response in results:
        assert response.status_code == 201, response.text
        assert response.json()["data"]["correct"] is False
    assert (await client.get("/healthz")).status_code == 200


async def test_an_unreadable_key_is_a_clear_error_not_a_crash(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    broken = item_body(skill="linear_equations.broken", stem="Solve it.", answer="x = = 4")
    document = {"format": "practicegen-bank", "version": 1, "items": [broken]}
    report = (await client.post("/api/v1/items/import", json=document)).json()["data"]
    assert report["imported"] == 0 and [r["row"] for r in report["rejected"]] == [1]
    # A key stored before keys were checked at the door still answers with a clear 409.
    engine = create_engine(server.settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            session.add(to_row(DEFAULT_TENANT_ID, ItemContent.model_validate(broken)))
    finally:
        await engine.dispose()
    student = await new_student(client)
    data = (
        await assign(client, student_id=student, subject="Algebra", num_items=1, goal_tags=[])
    ).json()["data"]
    url = f"/api/v1/assignments/{data['assignment_id']}/responses"
    assert_error(
        await client.post(url, json={"position": 1, "answer": "4"}), 409, "item_key_unreadable"
    )
