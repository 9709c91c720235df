"""Every bad request gets a 4xx in the error envelope, and never a stack trace."""

from __future__ import annotations

from typing import Any

import httpx

from practicegen.db.migrator import available_migrations
from tests.support.server import RunningServer


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
