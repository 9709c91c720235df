"""Student tokens: issued with an id, listed and revoked by a server; what they may not do.

Also the scope of an Idempotency-Key: its caller (the API key, or a student token's student),
so that no caller can take a key another will use.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen_client import AsyncClient, AuthenticationError
from tests.api.test_errors import assert_error
from tests.api.test_practice import new_student, seed_bank
from tests.api.test_streams import read_all, ws_url
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import RunningServer, running_server

ASYNC_ASSIGN = "/api/v1/practice/assign/async"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def mint(http: httpx.AsyncClient, student_id: str) -> dict[str, Any]:
    minted = await http.post("/api/v1/tokens", json={"student_id": student_id, "ttl_s": 600})
    assert minted.status_code == 201, minted.text
    data: dict[str, Any] = minted.json()["data"]
    return data


async def test_tokens_are_listed_by_id_and_a_revoked_one_is_refused_at_once(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    first, second = await new_student(client), await new_student(client)
    a, b = await mint(client, first), await mint(client, second)
    listed = await client.get("/api/v1/tokens")
    assert listed.status_code == 200, listed.text
    rows = {row["token_id"]: row for row in listed.json()["data"]["items"]}
    assert set(rows) == {a["token_id"], b["token_id"]}
    assert rows[a["token_id"]]["student_id"] == first
    assert rows[a["token_id"]]["token_suffix"] == a["token"][-4:]
    assert rows[a["token_id"]]["revoked_at"] is None
    assert a["token"] not in listed.text and b["token"] not in listed.text
    only = await client.get("/api/v1/tokens", params={"student_id": first})
    assert [r["token_id"] for r in only.json()["data"]["items"]] == [a["token_id"]]

    as_a, as_b = bearer(a["token"]), bearer(b["token"])
    mine = f"/api/v1/students/{first}"
    assert (await anonymous.get(mine, headers=as_a)).status_code == 200  # now trusted a while
    assert_error(await anonymous.get("/api/v1/tokens", headers=as_a), 403, "permission_denied")
    revoke_b = f"/api/v1/tokens/{b['token_id']}"
    assert_error(await anonymous.delete(revoke_b, headers=as_a), 403, "permission_denied")

    revoked = await client.delete(f"/api/v1/tokens/{a['token_id']}")
    assert revoked.status_code == 200, revoked.text
    revoked_at = revoked.json()["data"]["revoked_at"]
    assert revoked_at is not None
    assert_error(await anonymous.get(mine, headers=as_a), 401, "not_authenticated")
    theirs = await anonymous.get(f"/api/v1/students/{second}", headers=as_b)
    assert theirs.status_code == 200  # other tokens are untouched
    again = await client.delete(f"/api/v1/tokens/{a['token_id']}")
    assert again.json()["data"]["revoked_at"] == revoked_at
    listed = await client.get("/api/v1/tokens", params={"student_id": first})
    assert listed.json()["data"]["items"][0]["revoked_at"] == revoked_at

    unknown = await client.delete(f"/api/v1/tokens/{uuid.uuid4()}")
    assert_error(unknown, 404, "student_token_not_found")
    server_key = await client.post("/api/v1/keys", json={"name": "backend"})
    not_a_token = await client.delete(f"/api/v1/tokens/{server_key.json()['data']['key_id']}")
    assert_error(not_a_token, 404, "student_token_not_found")


async def test_a_token_revoked_on_one_node_is_refused_on_another_within_the_cache_time(
    database_url: str,
) -> None:
    cache_s = 1.0
    settings = make_settings(database_url, auth_cache_s=cache_s)
    await prepare(settings)
    async with (
        running_server(settings) as one,
        running_server(settings) as other,
        httpx.AsyncClient(base_url=one.base_url, headers=bearer(ADMIN_KEY)) as server,
        httpx.AsyncClient(base_url=other.base_url) as browser,
    ):
        student = await new_student(server)
        token = await mint(server, student)
        mine = f"/api/v1/students/{student}"
        assert (await browser.get(mine, headers=bearer(token["token"]))).status_code == 200
        revoked = await server.delete(f"/api/v1/tokens/{token['token_id']}")
        assert revoked.status_code == 200
        started = time.monotonic()
        while (await browser.get(mine, headers=bearer(token["token"]))).status_code == 200:
            assert time.monotonic() - started < cache_s + 1.0, "still trusted past the cache"
            await asyncio.sleep(0.05)
        refused = await browser.get(mine, headers=bearer(token["token"]))
        assert_error(refused, 401, "not_authenticated")


async def test_a_student_token_may_not_set_a_webhook_url(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await seed_bank(client)
    student = await new_student(client)
    token = bearer((await mint(client, student))["token"])
    body = {"student_id": student, "subject": "Algebra", "num_items": 2}
    hooked = body | {"webhook_url": "https://hooks.example.com/practice"}
    refused = await anonymous.post(ASYNC_ASSIGN, json=hooked, headers=token)
    assert_error(refused, 403, "student_webhook_refused")
    assert (await anonymous.post(ASYNC_ASSIGN, json=body, headers=token)).status_code == 202
    listed = await client.get("/api/v1/jobs", params={"student_id": student})
    assert len(listed.json()["data"]["items"]) == 1  # the refused request made no job


async def test_idempotency_keys_belong_to_their_caller(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await seed_bank(client)
    student, classmate = await new_student(client), await new_student(client)
    as_student = bearer((await mint(client, student))["token"])
    as_classmate = bearer((await mint(client, classmate))["token"])
    made = await client.post("/api/v1/keys", json={"name": "second backend", "role": "server"})
    as_second_server = bearer(made.json()["data"]["key"])
    key = {"Idempotency-Key": "nightly-practice"}

    async def start(headers: dict[str, str], student_id: str, num_items: int) -> httpx.Response:
        body = {"student_id": student_id, "subject": "Algebra", "num_items": num_items}
        response = await anonymous.post(ASYNC_ASSIGN, json=body, headers=headers | key)
        assert response.status_code == 202, response.text
        return response

    squatted = await start(as_student, student, 2)
    # the server's own request with the same key and another body is its own job, not a 422
    servers = await start(bearer(ADMIN_KEY), student, 3)
    assert "Idempotent-Replayed" not in servers.headers
    assert servers.json()["job_id"] != squatted.json()["job_id"]
    # each caller still replays its own
    for headers, first, num_items in (
        (bearer(ADMIN_KEY), servers, 3),
        (as_student, squatted, 2),
    ):
        replayed = await start(headers, student, num_items)
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json()["job_id"] == first.json()["job_id"]
    # another server key and another student have keys of their own
    others = [
        await start(as_second_server, student, 3),
        await start(as_classmate, classmate, 2),
    ]
    assert all("Idempotent-Replayed" not in r.headers for r in others)
    jobs = {r.json()["job_id"] for r in [squatted, servers, *others]}
    assert len(jobs) == 4


async def test_python_client_mints_and_revokes_a_token(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    student = await new_student(client)
    async with AsyncClient(server.base_url, token=ADMIN_KEY) as admin:
        token = await admin.mint_student_token(student)
        assert token.token_id is not None
        async with AsyncClient(server.base_url, token=token.token) as browser:
            assert str((await browser.get_student(student)).student_id) == student
            await admin.revoke_student_token(token.token_id)
            with pytest.raises(AuthenticationError):
                await browser.get_student(student)
    # the WebSocket checks the token as every request does
    ws = ws_url(server.base_url, str(uuid.uuid4()), token=token.token)
    messages, code = await read_all(ws)
    assert messages == [] and code == 4401
