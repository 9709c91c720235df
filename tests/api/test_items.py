"""The item bank over HTTP: create, read, filter, update, retire, import, export."""

from __future__ import annotations

import httpx

from tests.api.factories import choice_item_body, item_body
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.support.server import RunningServer


async def test_create_read_update_retire(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/items", json=item_body())
    assert created.status_code == 201, created.text
    item = created.json()["data"]
    assert item["status"] == "active" and item["source"] == "bank"
    item_id = item["item_id"]
    fetched = (await client.get(f"/api/v1/items/{item_id}")).json()["data"]
    assert fetched["stem"] == "Solve $2x + 3 = 11$." and fetched["answer"] == "x = 4"
    patched = await client.patch(f"/api/v1/items/{item_id}", json={"difficulty": 1.25})
    assert patched.json()["data"]["difficulty"] == 1.25
    retired = await client.post(f"/api/v1/items/{item_id}/retire")
    assert retired.json()["data"]["status"] == "retired"


async def test_invalid_items_are_refused_with_reasons(client: httpx.AsyncClient) -> None:
    no_choices = choice_item_body(choices=[{"id": "A", "text": "1"}])
    assert_error(await client.post("/api/v1/items", json=no_choices), 422, "validation_error")
    bad_answer = choice_item_body(answer="Z")
    assert_error(await client.post("/api/v1/items", json=bad_answer), 422, "validation_error")
    no_tolerance = item_body(type="numeric", answer="3.14", answer_policy="numeric_tolerance")
    assert_error(await client.post("/api/v1/items", json=no_tolerance), 422, "validation_error")
    bad_skill = item_body(skill="Has Spaces")
    assert_error(await client.post("/api/v1/items", json=bad_skill), 422, "validation_error")
    listed = (await client.get("/api/v1/items")).json()["data"]["items"]
    assert listed == []


async def test_filters_and_pagination(client: httpx.AsyncClient) -> None:
    for i, difficulty in enumerate([-2.0, -1.0, 0.0, 1.0, 2.0]):
        body = item_body(stem=f"Solve $x + {i} = {i + 5}$.", answer="x = 5", difficulty=difficulty)
        assert (await client.post("/api/v1/items", json=body)).status_code == 201
    assert (await client.post("/api/v1/items", json=choice_item_body())).status_code == 201

    async def ids(**params: str | float) -> list[str]:
        response = await client.get("/api/v1/items", params=params)
        return [i["item_id"] for i in response.json()["data"]["items"]]

    assert len(await ids(subject="Algebra")) == 5
    assert len(await ids(subject="Arithmetic")) == 1
    assert len(await ids(subject="Algebra", difficulty_min=-1, difficulty_max=1)) == 3
    assert len(await ids(skill="order_of_operations.basic")) == 1
    pages, cursor, seen = 0, None, []
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/items", params=params)).json()["data"]
        seen += [i["item_id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 6


async def test_import_reports_rejects_and_skips_duplicates_then_exports(
    client: httpx.AsyncClient,
) -> None:
    document = {
        "format": "practicegen-bank",
        "version": 1,
        "items": [item_body(), item_body(stem="Solve $3x = 12$."), {"stem": "broken"}, item_body()],
    }
    report = (await client.post("/api/v1/items/import", json=document)).json()["data"]
    assert report["imported"] == 2 and report["duplicates"] == 1
    assert [r["index"] for r in report["rejected"]] == [2]
    assert any("subject" in reason for reason in report["rejected"][0]["reasons"])
    exported = (await client.get("/api/v1/items/export")).json()
    assert exported["format"] == "practicegen-bank" and len(exported["items"]) == 2
    again = (await client.post("/api/v1/items/import", json=exported)).json()["data"]
    assert again["imported"] == 0 and again["duplicates"] == 2
    wrong = await client.post("/api/v1/items/import", json={"items": []})
    assert_error(wrong, 422, "invalid_bank_file")


async def test_items_are_tenant_scoped_and_server_only(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer
) -> None:
    item_id = (await client.post("/api/v1/items", json=item_body())).json()["data"]["item_id"]
    other = bearer(await new_tenant_key(client, server.settings))
    assert_error(
        await anonymous.get(f"/api/v1/items/{item_id}", headers=other), 404, "item_not_found"
    )
    assert_error(
        await anonymous.patch(f"/api/v1/items/{item_id}", json={"difficulty": 3}, headers=other),
        404,
        "item_not_found",
    )
    assert_error(
        await anonymous.post(f"/api/v1/items/{item_id}/retire", headers=other),
        404,
        "item_not_found",
    )
    assert (await anonymous.get("/api/v1/items", headers=other)).json()["data"]["items"] == []
    student = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
    token = (await client.post("/api/v1/tokens", json={"student_id": student})).json()["data"]
    as_student = bearer(token["token"])
    assert_error(
        await anonymous.get(f"/api/v1/items/{item_id}", headers=as_student),
        403,
        "permission_denied",
    )
    unchanged = (await client.get(f"/api/v1/items/{item_id}")).json()["data"]
    assert unchanged["difficulty"] == -0.5 and unchanged["status"] == "active"


UNREADABLE_KEYS = [
    item_body(type="numeric", stem="Half of 8?", answer="four", answer_policy="equivalent"),
    item_body(
        type="expression", stem="Simplify $x + x$.", answer="x > 3", answer_policy="equivalent"
    ),
    item_body(stem="Solve $x + 1 = 5$.", answer="x = = 4"),
    item_body(
        type="numeric",
        stem="Pi to 2 places?",
        answer="p",
        answer_policy="numeric_tolerance",
        tolerance=0.01,
    ),
]


async def test_an_unreadable_key_is_refused_at_creation_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    for body in UNREADABLE_KEYS:
        response = await client.post("/api/v1/items", json=body)
        error = assert_error(response, 422, "unreadable_answer_key")
        assert error["details"]["field"] == "answer", error
        assert body["answer"] in error["details"]["errors"][0]["message"]
    assert (await client.get("/api/v1/items")).json()["data"]["items"] == []
    readable = item_body(type="numeric", stem="Half of 8?", answer="4", answer_policy="equivalent")
    assert (await client.post("/api/v1/items", json=readable)).status_code == 201


async def test_an_update_cannot_set_a_key(client: httpx.AsyncClient) -> None:
    item_id = (await client.post("/api/v1/items", json=item_body())).json()["data"]["item_id"]
    patched = await client.patch(f"/api/v1/items/{item_id}", json={"answer": "four"})
    error = assert_error(patched, 422, "validation_error")
    assert [e["field"] for e in error["details"]["errors"]] == ["answer"]
    assert (await client.get(f"/api/v1/items/{item_id}")).json()["data"]["answer"] == "x = 4"


async def test_import_rejects_each_unreadable_key_by_row(client: httpx.AsyncClient) -> None:
    rows = [item_body(), *UNREADABLE_KEYS, {"stem": "broken"}, item_body(stem="Solve $3x = 12$.")]
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    report = (await client.post("/api/v1/items/import", json=document)).json()["data"]
    assert report["imported"] == 2 and report["duplicates"] == 0
    assert [r["row"] for r in report["rejected"]] == [2, 3, 4, 5, 6]
    assert [r["index"] for r in report["rejected"]] == [1, 2, 3, 4, 5]
    for rejected, body in zip(report["rejected"][:4], UNREADABLE_KEYS, strict=True):
        (reason,) = rejected["reasons"]
        assert reason.startswith("answer: ") and repr(body["answer"]) in reason, reason
    listed = (await client.get("/api/v1/items")).json()["data"]["items"]
    assert sorted(i["stem"] for i in listed) == ["Solve $2x + 3 = 11$.", "Solve $3x = 12$."]
