"""A tenant's settings: only an admin key reads or changes them, and a change lasts."""

from __future__ import annotations

import httpx

from tests.api.test_auth import new_tenant_key
from tests.api.test_errors import assert_error
from tests.support.server import RunningServer

SETTINGS = "/api/v1/tenant/settings"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_admin_reads_and_sets_the_check_model_requirement(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get(SETTINGS)
    assert first.status_code == 200, first.text
    assert first.json() == {"success": True, "data": {"require_check_model": False}}
    on = await client.patch(SETTINGS, json={"require_check_model": True})
    assert on.status_code == 200, on.text
    assert on.json()["data"] == {"require_check_model": True}
    assert (await client.get(SETTINGS)).json()["data"] == {"require_check_model": True}
    # a body naming nothing changes nothing
    assert (await client.patch(SETTINGS, json={})).json()["data"] == {"require_check_model": True}
    off = await client.patch(SETTINGS, json={"require_check_model": False})
    assert off.json()["data"] == {"require_check_model": False}
    assert (await client.get(SETTINGS)).json()["data"] == {"require_check_model": False}


async def test_a_server_key_and_a_student_token_may_not_touch_the_settings(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    created = await client.post("/api/v1/keys", json={"name": "backend", "role": "server"})
    server = bearer(created.json()["data"]["key"])
    student = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
    minted = await client.post("/api/v1/tokens", json={"student_id": student})
    token = bearer(minted.json()["data"]["token"])
    for headers in (server, token):
        assert_error(await anonymous.get(SETTINGS, headers=headers), 403, "permission_denied")
        assert_error(
            await anonymous.patch(SETTINGS, json={"require_check_model": True}, headers=headers),
            403,
            "permission_denied",
        )
    assert_error(await anonymous.get(SETTINGS), 401, "not_authenticated")
    assert (await client.get(SETTINGS)).json()["data"] == {"require_check_model": False}


async def test_a_bad_body_is_a_clear_422(client: httpx.AsyncClient) -> None:
    for body in ({"require_check_model": "yes"}, {"require_check_model": 1}, {"other": True}):
        response = await client.patch(SETTINGS, json=body)
        assert response.status_code == 422, response.text
        payload = response.json()
        assert payload["success"] is False and set(payload["error"]) == {
            "code",
            "message",
            "details",
        }
    assert (await client.get(SETTINGS)).json()["data"] == {"require_check_model": False}


async def test_each_tenant_has_its_own_settings(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer
) -> None:
    other = bearer(await new_tenant_key(client, server.settings))
    assert (await client.patch(SETTINGS, json={"require_check_model": True})).status_code == 200
    theirs = await anonymous.get(SETTINGS, headers=other)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["data"] == {"require_check_model": False}
    changed = await anonymous.patch(SETTINGS, json={"require_check_model": True}, headers=other)
    assert changed.json()["data"] == {"require_check_model": True}
    await anonymous.patch(SETTINGS, json={"require_check_model": False}, headers=other)
    assert (await client.get(SETTINGS)).json()["data"] == {"require_check_model": True}
