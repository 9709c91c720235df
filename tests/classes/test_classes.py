"""Classes over HTTP on both backends: the roster, its bounds, and the walls around it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from practicegen.config import Settings
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import in_process_client, started_app


async def new_student(client: httpx.AsyncClient, **body: Any) -> str:
    created = await client.post("/api/v1/students", json=body)
    assert created.status_code == 201, created.text
    student_id: str = created.json()["data"]["student_id"]
    return student_id


async def roster(client: httpx.AsyncClient, class_id: str) -> list[str]:
    listed = await client.get(f"/api/v1/classes/{class_id}/students")
    assert listed.status_code == 200, listed.text
    return [s["display_name"] for s in listed.json()["data"]["items"]]


async def test_a_class_is_made_filled_renamed_emptied_and_deleted(
    client: httpx.AsyncClient,
) -> None:
    ada = await new_student(client, display_name="Ada", external_id="sis-1")
    bo = await new_student(client, display_name="Bo")
    created = await client.post("/api/v1/classes", json={"name": "7B", "external_ids": ["sis-1"]})
    assert created.status_code == 201, created.text
    klass = created.json()["data"]
    assert (klass["name"], klass["student_count"]) == ("7B", 1)
    class_id = klass["class_id"]

    added = await client.post(
        f"/api/v1/classes/{class_id}/students", json={"student_ids": [bo, ada, bo]}
    )
    assert added.json()["data"]["student_count"] == 2  # Ada was in it already; Bo once
    assert await roster(client, class_id) == ["Ada", "Bo"]

    renamed = await client.patch(f"/api/v1/classes/{class_id}", json={"name": "7B maths"})
    assert renamed.json()["data"]["name"] == "7B maths"
    listed = (await client.get("/api/v1/classes")).json()["data"]["items"]
    assert [(c["class_id"], c["student_count"]) for c in listed] == [(class_id, 2)]

    removed = await client.delete(f"/api/v1/classes/{class_id}/students/{ada}")
    assert removed.json()["data"]["student_count"] == 1
    again = await client.delete(f"/api/v1/classes/{class_id}/students/{ada}")
    assert again.status_code == 200 and again.json()["data"]["student_count"] == 1
    assert await roster(client, class_id) == ["Bo"]

    deleted = await client.delete(f"/api/v1/classes/{class_id}")
    assert deleted.json()["data"]["name"] == "7B maths"
    assert_error(await client.get(f"/api/v1/classes/{class_id}"), 404, "class_not_found")
    assert (await client.get(f"/api/v1/students/{bo}")).status_code == 200  # students stay


async def test_naming_a_missing_student_changes_nothing_and_names_each_missing_one(
    client: httpx.AsyncClient,
) -> None:
    ada = await new_student(client, display_name="Ada")
    class_id = (await client.post("/api/v1/classes", json={"name": "7B"})).json()["data"][
        "class_id"
    ]
    ghost = str(uuid.uuid4())
    body = {"student_ids": [ada, ghost], "external_ids": ["nobody"]}
    refused = await client.post(f"/api/v1/classes/{class_id}/students", json=body)
    error = assert_error(refused, 404, "student_not_found")
    assert error["details"] == {"student_ids": [ghost], "external_ids": ["nobody"]}
    assert await roster(client, class_id) == []
    refused = await client.post("/api/v1/classes", json={"name": "7C", "student_ids": [ghost]})
    assert_error(refused, 404, "student_not_found")
    names = [c["name"] for c in (await client.get("/api/v1/classes")).json()["data"]["items"]]
    assert names == ["7B"]  # the refused class was not made either


async def test_bad_class_bodies_are_refused(client: httpx.AsyncClient) -> None:
    bad_classes: list[dict[str, object]] = [{}, {"name": ""}, {"name": "x" * 201}]
    for body in [*bad_classes, {"name": "7B", "extra": 1}, {"name": "7B", "student_ids": 3}]:
        assert_error(await client.post("/api/v1/classes", json=body), 422, "validation_error")
    class_id = (await client.post("/api/v1/classes", json={"name": "7B"})).json()["data"][
        "class_id"
    ]
    students = f"/api/v1/classes/{class_id}/students"
    bad_members: list[dict[str, object]] = [{}, {"student_ids": []}, {"student_ids": ["x"]}]
    for body in bad_members:
        assert_error(await client.post(students, json=body), 422, "validation_error")
    assert_error(await client.get("/api/v1/classes/not-a-uuid"), 422, "validation_error")
    assert_error(await client.get(f"/api/v1/classes/{uuid.uuid4()}"), 404, "class_not_found")


async def test_a_class_holds_at_most_its_bound(database_url: str, settings: Settings) -> None:
    bounded = make_settings(database_url, class_max_students=2)
    async with (
        started_app(bounded) as app,
        in_process_client(app, headers=bearer(ADMIN_KEY)) as client,
    ):
        ids = [await new_student(client, display_name=n) for n in ("A", "B", "C")]
        refused = await client.post("/api/v1/classes", json={"name": "big", "student_ids": ids})
        error = assert_error(refused, 409, "class_full")
        assert error["details"] == {"limit": 2, "would_hold": 3}
        class_id = (
            await client.post("/api/v1/classes", json={"name": "ok", "student_ids": ids[:2]})
        ).json()["data"]["class_id"]
        more = await client.post(
            f"/api/v1/classes/{class_id}/students", json={"student_ids": [ids[2]]}
        )
        assert_error(more, 409, "class_full")
        assert await roster(client, class_id) == ["A", "B"]


async def test_classes_are_walled_by_tenant_and_closed_to_student_tokens(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await new_student(client, display_name="Ada")
    class_id = (
        await client.post("/api/v1/classes", json={"name": "7B", "student_ids": [ada]})
    ).json()["data"]["class_id"]
    other = bearer(await new_tenant_key(client, settings))
    for method, path in (
        ("GET", f"/api/v1/classes/{class_id}"),
        ("PATCH", f"/api/v1/classes/{class_id}"),
        ("DELETE", f"/api/v1/classes/{class_id}"),
        ("GET", f"/api/v1/classes/{class_id}/students"),
        ("GET", f"/api/v1/classes/{class_id}/report"),
        ("DELETE", f"/api/v1/classes/{class_id}/students/{ada}"),
    ):
        body = {"name": "theirs"} if method == "PATCH" else None
        answered = await anonymous.request(method, path, json=body, headers=other)
        assert_error(answered, 404, "class_not_found")
    assert (await anonymous.get("/api/v1/classes", headers=other)).json()["data"]["items"] == []
    for path in (f"/api/v1/students/{ada}/mastery", f"/api/v1/students/{ada}/assignments"):
        assert_error(await anonymous.get(path, headers=other), 404, "student_not_found")
    # another tenant's class cannot take this tenant's student, nor this class theirs
    theirs = (await anonymous.post("/api/v1/students", json={}, headers=other)).json()["data"]
    mine = await client.post(
        f"/api/v1/classes/{class_id}/students", json={"student_ids": [theirs["student_id"]]}
    )
    assert_error(mine, 404, "student_not_found")

    token = await client.post("/api/v1/tokens", json={"student_id": ada})
    as_ada = bearer(token.json()["data"]["token"])
    for method, path in (
        ("GET", "/api/v1/classes"),
        ("POST", "/api/v1/classes"),
        ("GET", f"/api/v1/classes/{class_id}"),
        ("GET", f"/api/v1/classes/{class_id}/report"),
    ):
        body = {"name": "mine"} if method == "POST" else None
        answered = await anonymous.request(method, path, json=body, headers=as_ada)
        assert_error(answered, 403, "permission_denied")
    assert await roster(client, class_id) == ["Ada"]
