"""Every bad request gets a 4xx in the error envelope, and never a stack trace."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from practicegen.api import openapi
from practicegen.bootstrap import prepare
from practicegen.db.migrator import available_migrations
from tests.api.factories import item_body
from tests.conftest import make_settings
from tests.support.server import RunningServer, running_server


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "details" in body["error"]
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    return error


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/students",
        content=b'{"display_name": ',
        headers={"content-type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")


async def test_wrong_type_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/students", json={"grade_level": "ninth"})
    error = assert_error(response, 422, "validation_error")
    assert [e["field"] for e in error["details"]["errors"]] == ["grade_level"]


async def test_unknown_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/students", json={"display_name": "A", "nmae": "typo"})
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["errors"][0]["field"] == "nmae"


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    big = {"display_name": "A", "metadata": {"blob": "x" * 1_100_000}}
    assert_error(await client.post("/api/v1/students", json=big), 413, "payload_too_large")


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        yield b'{"display_name": "A", "metadata": {"blob": "'
        for _ in range(12):
            yield b"x" * 100_000
        yield b'"}}'

    response = await client.post(
        "/api/v1/students", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")


async def test_unknown_route_and_method_use_the_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(await client.put("/api/v1/students"), 405, "method_not_allowed")


async def test_bad_path_parameter_is_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/students/not-a-uuid"), 422, "validation_error")


async def test_bad_cursor_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/students", params={"cursor": "%%%garbage"})
    assert_error(response, 422, "invalid_cursor")


async def test_request_id_is_returned_and_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["x-request-id"] == "trace-abc.123"
    refused = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert refused.headers["x-request-id"] != "bad id\twith spaces"


async def test_readyz_and_openapi(anonymous: httpx.AsyncClient, server: RunningServer) -> None:
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 200
    known = available_migrations(database_url=server.settings.database_url)
    expected = [m.version for m in known]
    assert "004" in expected or server.settings.database_kind.value == "sqlite"
    assert ready.json()["data"]["migrations"] == expected
    assert (await anonymous.get("/docs")).status_code == 200
    spec = (await anonymous.get("/openapi.json")).json()
    assert "/api/v1/students" in spec["paths"]


async def test_a_boolean_is_not_a_number(client: httpx.AsyncClient) -> None:
    for body in ({"display_name": "A", "grade_level": False}, {"grade_level": True}):
        error = assert_error(
            await client.post("/api/v1/students", json=body), 422, "validation_error"
        )
        assert [e["field"] for e in error["details"]["errors"]] == ["grade_level"]
    assert (await client.get("/api/v1/students")).json()["data"]["items"] == []
    student = (await client.post("/api/v1/students", json={"grade_level": 7})).json()["data"]
    patched = await client.patch(
        f"/api/v1/students/{student['student_id']}", json={"grade_level": False}
    )
    assert_error(patched, 422, "validation_error")
    assign = {"student_id": student["student_id"], "subject": "Algebra", "num_items": True}
    assert_error(await client.post("/api/v1/practice/assign", json=assign), 422, "validation_error")
    item = await client.post("/api/v1/items", json=item_body(difficulty=True))
    assert_error(item, 422, "validation_error")


async def test_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/students")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    one = await client.delete(f"/api/v1/students/{uuid.uuid4()}")
    assert one.status_code == 405 and one.headers["allow"] == "GET, PATCH"
    cancel = await client.get(f"/api/v1/jobs/{uuid.uuid4()}/cancel")
    assert cancel.headers["allow"] == "POST"


async def test_openapi_declares_error_answers_and_bounds(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    error_schema = spec["components"]["schemas"]["ErrorEnvelope"]
    assert error_schema["properties"]["error"]["required"] == ["code", "message", "details"]

    def declared(method: str, path: str) -> set[str]:
        responses = spec["paths"][path][method]["responses"]
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                assert answer["content"]["application/json"]["schema"] == envelope, status
        return set(responses)

    assert declared("get", "/api/v1/students") == {"200", "401", "403", "422", "503"}
    assert declared("post", "/api/v1/students") >= {"400", "409", "413", "422"}
    assert declared("get", "/api/v1/students/{student_id}") >= {"401", "403", "404", "503"}
    assert declared("post", "/api/v1/practice/assign/async") >= {"404", "409", "429", "503"}
    assert declared("get", "/api/v1/jobs/{job_id}") >= {"404", "410"}
    assert declared("get", "/readyz") == {"200", "422", "503"}
    busy = spec["paths"]["/api/v1/practice/assign/async"]["post"]["responses"]["429"]
    assert busy["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path in openapi.CONFLICTS | openapi.LIMITED | openapi.REFERRING:
        assert method in spec["paths"][path], (method, path)  # the tables name real routes
    assign = spec["components"]["schemas"]["AssignRequest"]["properties"]["num_items"]
    assert (assign["minimum"], assign["maximum"]) == (1, 20)
    student = spec["components"]["schemas"]["StudentCreate"]["properties"]["grade_level"]
    assert {"type": "integer", "minimum": 0, "maximum": 20} in student["anyOf"]
    assert "/" not in spec["paths"] and "/static/{name}" not in spec["paths"]


async def test_num_items_bound_follows_the_setting(database_url: str) -> None:
    settings = make_settings(database_url, max_num_items=7)
    await prepare(settings)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        spec = (await http.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["AssignRequest"]["properties"]["num_items"]["maximum"] == 7
