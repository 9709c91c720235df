"""Spaced review over HTTP on both backends: an item answered wrong is held back while recent,
comes back once its spacing has passed (past the recent-items rule), after a right answer waits
twice as long, and after the rounds of right answers stays away. The node's clock is the test's,
so the hours pass at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from practicegen.bootstrap import prepare
from tests.api.test_auth import bearer
from tests.classes.test_reports import physics_item
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import in_process_client, started_app

SPACING = timedelta(hours=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def assign(http: httpx.AsyncClient, student: str) -> dict[str, object]:
    body = {"student_id": student, "subject": "Physics", "num_items": 3}
    made = await http.post("/api/v1/practice/assign", json=body)
    assert made.status_code == 200, made.text
    data: dict[str, object] = made.json()["data"]
    return data


def ids(assignment: dict[str, object]) -> list[str]:
    return [item["item_id"] for item in assignment["items"]]  # type: ignore[attr-defined]


async def answer_all(http: httpx.AsyncClient, assignment: dict[str, object], wrong: str) -> None:
    for item in assignment["items"]:  # type: ignore[attr-defined]
        given = "0" if item["item_id"] == wrong else item["answer"]
        url = f"/api/v1/assignments/{assignment['assignment_id']}/responses"
        graded = await http.post(url, json={"position": item["position"], "answer": given})
        assert graded.status_code == 201, graded.text


async def test_an_item_answered_wrong_comes_back_spaced(database_url: str) -> None:
    spacing_s = SPACING.total_seconds()
    settings = make_settings(database_url, review_spacing_s=spacing_s, review_rounds=2)
    await prepare(settings)
    clock = Clock()
    async with (
        started_app(settings, clock=clock) as app,
        in_process_client(app, headers=bearer(ADMIN_KEY), timeout=60) as http,
    ):
        rows = [physics_item(k, 0.0) for k in range(1, 41)]  # more than 5 recent assignments
        document = {"format": "practicegen-bank", "version": 1, "items": rows}
        assert (await http.post("/api/v1/items/import", json=document)).status_code == 200
        student = (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]

        first = await assign(http, student)
        missed = ids(first)[0]
        await answer_all(http, first, wrong=missed)
        second = await assign(http, student)  # at once: not due, and recent
        assert missed not in ids(second)
        await answer_all(http, second, wrong="")

        clock.now += SPACING
        third = await assign(http, student)  # due, though recent
        assert missed in ids(third)
        reviewed = next(i for i in third["items"] if i["item_id"] == missed)  # type: ignore[attr-defined]
        assert "review" in reviewed["reason"]
        await answer_all(http, third, wrong="")  # right this time: next after twice the spacing

        clock.now += SPACING
        assert missed not in ids(await assign(http, student))
        clock.now += SPACING
        fifth = await assign(http, student)
        assert missed in ids(fifth)
        await answer_all(http, fifth, wrong="")  # two right in a row: its review ends
        clock.now += 100 * SPACING
        assert missed not in ids(await assign(http, student))
