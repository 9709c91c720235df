"""NUL and unpaired surrogates are refused at the edge, in every kind of field, on both backends.

PostgreSQL cannot store a NUL and neither database can encode a lone surrogate: each used to
be a 500. Bodies are sent as raw JSON text so the `\\u0000` and `\\ud800` escapes reach the
server exactly as a client would write them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.factories import choice_item_body, item_body
from tests.api.test_errors import assert_error
from tests.api.test_practice import new_student, seed_bank

NUL = "\\u0000"
SURROGATE = "\\ud800"


def raw_json(body: dict[str, Any], marker: str, escape: str) -> bytes:
    """`body` as JSON text with every `marker` replaced by the escape `escape`."""
    return json.dumps(body).replace(marker, escape).encode()


async def post_raw(
    client: httpx.AsyncClient, url: str, content: bytes, method: str = "POST"
) -> httpx.Response:
    return await client.request(
        method, url, content=content, headers={"content-type": "application/json"}
    )


def refused_field(response: httpx.Response) -> str:
    error = assert_error(response, 422, "invalid_text")
    field: str = error["details"]["errors"][0]["field"]
    return field


STUDENT_CASES = [
    ({"display_name": "Ann@"}, "display_name"),
    ({"external_id": "x@"}, "external_id"),
    ({"display_name": "A", "metadata": {"k@": 1}}, "metadata.k"),
    ({"display_name": "A", "metadata": {"deep": {"list": ["ok", "v@"]}}}, "metadata.deep.list.1"),
]


@pytest.mark.parametrize("escape", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(("body", "field"), STUDENT_CASES)
async def test_student_text_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, escape: str
) -> None:
    response = await post_raw(client, "/api/v1/students", raw_json(body, "@", escape))
    assert refused_field(response).startswith(field)
    listed = await client.get("/api/v1/students")
    assert listed.json()["data"]["items"] == []


async def test_student_update_and_goal_text_are_refused(client: httpx.AsyncClient) -> None:
    student = await new_student(client)
    patch = raw_json({"metadata": {"note": "x@"}}, "@", SURROGATE)
    response = await post_raw(client, f"/api/v1/students/{student}", patch, method="PATCH")
    assert refused_field(response) == "metadata.note"
    assert (await client.get(f"/api/v1/students/{student}")).json()["data"]["metadata"] == {}
    goal = {"name": "G@", "subject": "Algebra", "skills": ["linear_equations.one_step"]}
    for escape in (NUL, SURROGATE):
        response = await post_raw(client, "/api/v1/goals", raw_json(goal, "@", escape))
        assert refused_field(response) == "name"
    assert (await client.get("/api/v1/goals")).json()["data"]["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (item_body(stem="Solve $x = 1$@."), "stem"),
        (item_body(subject="Alg@"), "subject"),
        (item_body(hints=["ok", "h@"]), "hints.1"),
        (item_body(provenance={"by@": "me"}), "provenance.by"),
        (choice_item_body(choices=[{"id": "A", "text": "1@"}, {"id": "B", "text": "2"}]), ""),
    ],
)
async def test_item_text_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await post_raw(client, "/api/v1/items", raw_json(body, "@", NUL))
    assert refused_field(response).startswith(field or "choices.0.text")
    imported = raw_json({"format": "practicegen-bank", "items": [body]}, "@", SURROGATE)
    refused_field(await post_raw(client, "/api/v1/items/import", imported))
    assert (await client.get("/api/v1/items")).json()["data"]["items"] == []


async def test_practice_and_answer_text_are_refused(client: httpx.AsyncClient) -> None:
    await seed_bank(client)
    student = await new_student(client)
    assign = {"student_id": student, "subject": "Alg@", "num_items": 2}
    for url in ("/api/v1/practice/assign", "/api/v1/practice/assign/async"):
        assert refused_field(await post_raw(client, url, raw_json(assign, "@", NUL))) == "subject"
    assert (await client.get("/api/v1/jobs")).json()["data"]["items"] == []
    made = await client.post("/api/v1/practice/assign", json=assign | {"subject": "Algebra"})
    assert made.status_code == 200, made.text
    assignment = made.json()["data"]["assignment_id"]
    answer = raw_json({"position": 1, "answer": "x = 4@"}, "@", SURROGATE)
    url = f"/api/v1/assignments/{assignment}/responses"
    assert refused_field(await post_raw(client, url, answer)) == "answer"
    read = await client.get(f"/api/v1/assignments/{assignment}")
    assert all(item["response"] is None for item in read.json()["data"]["items"])


async def test_query_and_path_text_are_refused(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.get("/api/v1/items?subject=Alg%00"), 422, "invalid_text")
    assert error["details"]["errors"][0] == {
        "field": "subject",
        "location": "query",
        "message": "must not contain NUL characters or unpaired surrogates",
        "type": "invalid_text",
    }
    assert refused_field(await client.get("/api/v1/goals?subject=%00")) == "subject"
    assert refused_field(await client.get("/api/v1/students/ab%00cd")) == "path"
    assert refused_field(await client.get("/api/v1/jobs?job_type=%00")) == "job_type"


async def test_escaped_text_that_is_fine_still_passes(client: httpx.AsyncClient) -> None:
    body = raw_json({"display_name": "Zo@", "metadata": {"tex": "\\u0000"}}, "@", "\\u00eb")
    created = await post_raw(client, "/api/v1/students", body)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["display_name"] == "Zoë"
    assert data["metadata"] == {"tex": "\\u0000"}  # a backslash and "u0000", not a NUL
    emoji = raw_json({"display_name": "@"}, "@", "\\ud83d\\ude00")
    assert (await post_raw(client, "/api/v1/students", emoji)).json()["data"]["display_name"] == (
        "\U0001f600"
    )


async def test_raw_bytes_that_are_not_utf8_are_a_4xx(client: httpx.AsyncClient) -> None:
    surrogate_bytes = b'{"display_name": "\xed\xa0\x80"}'  # a surrogate encoded as if UTF-8
    response = await post_raw(client, "/api/v1/students", surrogate_bytes)
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["errors"][0]["field"] == "display_name"
    nul_byte = await post_raw(client, "/api/v1/students", b'{"display_name": "a\x00b"}')
    assert_error(nul_byte, 400, "malformed_json")  # a raw control character is not JSON
    query = await client.get("/api/v1/items?subject=%ED%A0%80")  # decoded as U+FFFD: harmless
    assert query.status_code == 200, query.text
    assert (await client.get("/api/v1/students")).json()["data"]["items"] == []
