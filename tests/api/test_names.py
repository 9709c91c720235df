"""Subjects and topics match ignoring case wherever a request names them, on both backends;
what is stored and answered is the known spelling (`Algebra`, not `algebra`)."""

from __future__ import annotations

from typing import Any

import httpx

from practicegen.bootstrap import prepare
from tests.api.factories import item_body
from tests.api.test_auth import bearer
from tests.api.test_errors import assert_error
from tests.api.test_practice import new_student, seed_bank
from tests.conftest import ADMIN_KEY, make_settings
from tests.practice.test_generation_failed import finished_job
from tests.support.server import in_process_client, started_app

MOLES = {"subject": "Chemistry", "topic": "Moles", "skill": "moles.convert"}


def bank(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "practicegen-bank", "version": 1, "items": rows}


async def test_assigning_matches_subject_and_topic_ignoring_case(
    client: httpx.AsyncClient,
) -> None:
    await seed_bank(client)
    rows = [item_body(**MOLES, stem=f"Moles in ${k}$ g?", answer=str(k)) for k in range(1, 4)]
    assert (await client.post("/api/v1/items/import", json=bank(rows))).status_code == 200
    student = await new_student(client)
    for subject, topic, canonical in (
        ("algebra", "LINEAR equations", ("Algebra", "Linear Equations")),
        ("cHEMISTRY", "moles", ("Chemistry", "Moles")),
        ("GEOMETRY", "pythagorean theorem", ("Geometry", "Pythagorean Theorem")),
    ):
        body = {"student_id": student, "subject": subject, "topic": topic, "num_items": 2}
        made = await client.post("/api/v1/practice/assign", json=body)
        assert made.status_code == 200, made.text
        data = made.json()["data"]
        assert (data["subject"], data["topic"]) == canonical
        assert {(i["subject"], i["topic"]) for i in data["items"]} == {canonical}
    unknown = await client.post(
        "/api/v1/practice/assign",
        json={"student_id": student, "subject": "alchemy", "num_items": 2},
    )
    assert "Algebra" in assert_error(unknown, 422, "unknown_subject")["details"]["known_subjects"]
    knitting = {"student_id": student, "subject": "algebra", "topic": "knitting", "num_items": 2}
    assert_error(await client.post("/api/v1/practice/assign", json=knitting), 422, "unknown_topic")


async def test_the_async_job_keeps_the_known_spelling(database_url: str) -> None:
    settings = make_settings(database_url, run_worker=True)
    await prepare(settings)
    headers = bearer(ADMIN_KEY)
    async with started_app(settings) as app, in_process_client(app, headers=headers) as client:
        await _assign_in_a_job(client)


async def _assign_in_a_job(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    body = {"student_id": student, "subject": "ALGEBRA", "topic": "linear equations"}
    accepted = await client.post(
        "/api/v1/practice/assign/async",
        json=body | {"num_items": 3},
        headers={"Idempotency-Key": "k1"},
    )
    assert accepted.status_code == 202, accepted.text
    job = await finished_job(client, accepted.json()["job_id"])
    result = job["result"]
    assert (result["subject"], result["topic"]) == ("Algebra", "Linear Equations")
    replayed = await client.post(
        "/api/v1/practice/assign/async",
        json=body | {"subject": "Algebra", "num_items": 3},
        headers={"Idempotency-Key": "k1"},
    )  # the same request, spelled otherwise: the same job
    assert replayed.json()["job_id"] == accepted.json()["job_id"]


async def test_the_bank_keeps_one_spelling_of_each_name(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/items", json=item_body(subject="algebra", topic="linear EQUATIONS")
    )
    assert created.status_code == 201, created.text
    assert (created.json()["data"]["subject"], created.json()["data"]["topic"]) == (
        "Algebra",
        "Linear Equations",
    )
    rows = [
        item_body(**MOLES, stem="First"),
        item_body(**(MOLES | {"subject": "CHEMISTRY", "topic": "moles"}), stem="Second"),
        item_body(subject="geometry", topic="AREA", skill="area.custom", stem="Third"),
    ]
    report = (await client.post("/api/v1/items/import", json=bank(rows))).json()["data"]
    assert report["imported"] == 3
    listed = (await client.get("/api/v1/items", params={"subject": "chemistry"})).json()["data"]
    assert {(i["subject"], i["topic"]) for i in listed["items"]} == {("Chemistry", "Moles")}
    assert len(listed["items"]) == 2
    geometry = await client.get("/api/v1/items", params={"subject": "GEOMETRY", "topic": "area"})
    assert [(i["subject"], i["topic"]) for i in geometry.json()["data"]["items"]] == [
        ("Geometry", "Area")
    ]
    exported = await client.get("/api/v1/items/export", params={"subject": "cheMistry"})
    assert len(exported.json()["items"]) == 2
    item_id = created.json()["data"]["item_id"]
    moved = await client.patch(f"/api/v1/items/{item_id}", json={"topic": "SLOPE"})
    assert moved.json()["data"]["topic"] == "Slope"
    catalog = (await client.get("/api/v1/catalog")).json()["data"]
    assert [s["name"] for s in catalog["subjects"]] == [
        "Algebra",
        "Arithmetic",
        "Chemistry",
        "Geometry",
    ]


async def test_goals_match_their_subject_ignoring_case(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    goal = {"name": "Two-step", "subject": "ALGEBRA", "skills": ["linear_equations.two_step"]}
    created = (await client.post("/api/v1/goals", json=goal)).json()["data"]
    assert created["subject"] == "Algebra"
    listed = await client.get("/api/v1/goals", params={"subject": "algebra"})
    assert [g["goal_id"] for g in listed.json()["data"]["items"]] == [created["goal_id"]]
    student = await new_student(client)
    body = {
        "student_id": student,
        "subject": "algebra",
        "goal_tags": [created["goal_id"]],
        "num_items": 2,
    }
    made = await client.post("/api/v1/practice/assign", json=body)
    assert made.status_code == 200, made.text
    assert {i["skill"] for i in made.json()["data"]["items"]} == {"linear_equations.two_step"}
