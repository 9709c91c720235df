"""Where students stand, over HTTP on both backends: mastery by the documented rule, a class's
students by skills, a student's assignments newest first with their scores."""

from __future__ import annotations

from typing import Any

import httpx

from practicegen.config import Settings
from tests.api.factories import item_body
from tests.api.test_auth import bearer
from tests.api.test_errors import assert_error
from tests.classes.test_classes import new_student
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import in_process_client, started_app

SKILL = "units.convert"


def physics_item(k: int, difficulty: float) -> dict[str, Any]:
    """Items of a subject no generator knows, so every assigned item is one of these."""
    return item_body(
        subject="Physics",
        topic="Units",
        skill=SKILL,
        type="numeric",
        stem=f"How many metres are {k} km? (in thousands)",
        answer=str(k),
        answer_policy="equivalent",
        difficulty=difficulty,
    )


async def assign_and_answer(
    client: httpx.AsyncClient, student_id: str, num_items: int, *, right: bool
) -> str:
    body = {"student_id": student_id, "subject": "Physics", "num_items": num_items}
    assigned = await client.post("/api/v1/practice/assign", json=body)
    assert assigned.status_code == 200, assigned.text
    assignment = assigned.json()["data"]
    url = f"/api/v1/assignments/{assignment['assignment_id']}"
    shown = (await client.get(url)).json()["data"]["items"]
    for item in shown:
        k = item["stem"].split("How many metres are ")[1].split(" ")[0]
        answer = k if right else "0"
        graded = await client.post(
            f"{url}/responses", json={"position": item["position"], "answer": answer}
        )
        assert graded.status_code == 201, graded.text
        assert graded.json()["data"]["correct"] is right
    assignment_id: str = assignment["assignment_id"]
    return assignment_id


async def test_mastery_the_class_report_and_a_students_assignments(
    database_url: str, settings: Settings
) -> None:
    rules = make_settings(database_url, mastery_min_answers=3, mastery_success=0.8)
    async with (
        started_app(rules) as app,
        in_process_client(app, headers=bearer(ADMIN_KEY), timeout=60) as client,
    ):
        rows = [physics_item(k, -3.0) for k in range(1, 9)]
        document = {"format": "practicegen-bank", "version": 1, "items": rows}
        imported = await client.post("/api/v1/items/import", json=document)
        assert imported.json()["data"]["imported"] == 8, imported.text
        ada = await new_student(client, display_name="Ada")
        bo = await new_student(client, display_name="Bo")
        cy = await new_student(client, display_name="Cy")
        first = await assign_and_answer(client, ada, 2, right=True)
        second = await assign_and_answer(client, ada, 1, right=True)
        await assign_and_answer(client, bo, 3, right=False)

        mastery = (await client.get(f"/api/v1/students/{ada}/mastery")).json()["data"]
        assert mastery["rule"] == {"success": 0.8, "min_answers": 3}
        [standing] = mastery["skills"]
        assert standing["skill"] == SKILL and standing["answered"] == 3
        assert standing["typical_success"] >= 0.8 and standing["mastered"] is True
        bos = (await client.get(f"/api/v1/students/{bo}/mastery")).json()["data"]["skills"]
        assert bos[0]["answered"] == 3 and bos[0]["mastered"] is False
        assert bos[0]["ability"] < standing["ability"]
        cys = (await client.get(f"/api/v1/students/{cy}/mastery")).json()["data"]
        assert cys["skills"] == []

        klass = await client.post(
            "/api/v1/classes", json={"name": "9A", "student_ids": [cy, bo, ada]}
        )
        class_id = klass.json()["data"]["class_id"]
        report = (await client.get(f"/api/v1/classes/{class_id}/report")).json()["data"]
        assert report["skills"] == [SKILL] and report["name"] == "9A"
        by_name = {row["display_name"]: row["skills"] for row in report["students"]}
        assert list(by_name) == ["Ada", "Bo", "Cy"]
        assert by_name["Ada"][SKILL] == standing
        assert by_name["Bo"][SKILL]["mastered"] is False and by_name["Cy"] == {}

        page = await client.get(f"/api/v1/students/{ada}/assignments", params={"limit": 1})
        newest = page.json()["data"]
        assert [a["assignment_id"] for a in newest["items"]] == [second]
        assert (newest["items"][0]["answered"], newest["items"][0]["correct"]) == (1, 1)
        older = await client.get(
            f"/api/v1/students/{ada}/assignments",
            params={"limit": 1, "cursor": newest["next_cursor"]},
        )
        rest = older.json()["data"]
        assert [a["assignment_id"] for a in rest["items"]] == [first]
        assert rest["items"][0]["num_items"] == 2 and rest["next_cursor"] is None
        bos_work = (await client.get(f"/api/v1/students/{bo}/assignments")).json()["data"]
        assert [(a["answered"], a["correct"]) for a in bos_work["items"]] == [(3, 0)]

        token = await client.post("/api/v1/tokens", json={"student_id": ada})
        as_ada = bearer(token.json()["data"]["token"])
        own = await client.get(f"/api/v1/students/{ada}/mastery", headers=as_ada)
        assert own.json()["data"]["skills"] == [standing]
        own_work = await client.get(f"/api/v1/students/{ada}/assignments", headers=as_ada)
        assert len(own_work.json()["data"]["items"]) == 2
        for path in (f"/api/v1/students/{bo}/mastery", f"/api/v1/students/{bo}/assignments"):
            assert_error(await client.get(path, headers=as_ada), 404, "student_not_found")
        cursor = await client.get(f"/api/v1/students/{ada}/assignments", params={"cursor": "x"})
        assert_error(cursor, 422, "invalid_cursor")
