"""Keys, tokens, and the wall between tenants."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from practicegen.config import Settings
from tests.api.test_errors import assert_error
from tests.conftest import make_settings
from tests.support.server import RunningServer, in_process_client, running_server, started_app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_tenant_key(client: httpx.AsyncClient, settings: Settings) -> str:
    from practicegen.auth.principal import Role
    from practicegen.cli.keys import issue_key

    return await issue_key(settings, name="other", role=Role.ADMIN, new_tenant="tenant-b")


async def test_missing_bad_and_malformed_credentials_are_401(
    anonymous: httpx.AsyncClient,
) -> None:
    assert_error(await anonymous.get("/api/v1/students"), 401, "not_authenticated")
    bad = await anonymous.get("/api/v1/students", headers=bearer("pgen_sk_nope"))
    assert_error(bad, 401, "not_authenticated")
    assert bad.headers["www-authenticate"] == "Bearer"
    basic = await anonymous.get("/api/v1/students", headers={"Authorization": "Basic abc"})
    assert_error(basic, 401, "not_authenticated")


async def test_created_key_works_once_shown_and_stops_when_revoked(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    created = await client.post("/api/v1/keys", json={"name": "backend", "role": "server"})
    assert created.status_code == 201
    data = created.json()["data"]
    key = data["key"]
    assert key.startswith("pgen_sk_") and data["key_suffix"] == key[-4:]
    listed = (await client.get("/api/v1/keys")).json()["data"]
    assert all("key" not in row for row in listed)
    assert (await anonymous.get("/api/v1/students", headers=bearer(key))).status_code == 200
    # a server key may not manage keys
    assert_error(
        await anonymous.post("/api/v1/keys", json={"name": "x"}, headers=bearer(key)),
        403,
        "permission_denied",
    )
    revoked = await client.delete(f"/api/v1/keys/{data['key_id']}")
    assert revoked.json()["data"]["revoked_at"] is not None
    assert_error(
        await anonymous.get("/api/v1/students", headers=bearer(key)), 401, "not_authenticated"
    )


async def test_tenant_b_cannot_see_or_change_tenant_a_students(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer
) -> None:
    student = (await client.post("/api/v1/students", json={"display_name": "A1"})).json()["data"]
    other = bearer(await new_tenant_key(client, server.settings))
    sid = student["student_id"]
    assert_error(
        await anonymous.get(f"/api/v1/students/{sid}", headers=other), 404, "student_not_found"
    )
    assert_error(
        await anonymous.patch(f"/api/v1/students/{sid}", json={"display_name": "X"}, headers=other),
        404,
        "student_not_found",
    )
    listed = await anonymous.get("/api/v1/students", headers=other)
    assert listed.json()["data"]["items"] == []
    token = await anonymous.post("/api/v1/tokens", json={"student_id": sid}, headers=other)
    assert_error(token, 404, "student_not_found")
    unchanged = (await client.get(f"/api/v1/students/{sid}")).json()["data"]
    assert unchanged["display_name"] == "A1"


async def test_student_token_reaches_only_its_student(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    mine = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
    theirs = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
    minted = await client.post("/api/v1/tokens", json={"student_id": mine, "ttl_s": 600})
    assert minted.status_code == 201
    token = bearer(minted.json()["data"]["token"])
    assert (await anonymous.get(f"/api/v1/students/{mine}", headers=token)).status_code == 200
    assert_error(
        await anonymous.get(f"/api/v1/students/{theirs}", headers=token), 404, "student_not_found"
    )
    assert_error(await anonymous.get("/api/v1/students", headers=token), 403, "permission_denied")
    assert_error(
        await anonymous.post("/api/v1/tokens", json={"student_id": mine}, headers=token),
        403,
        "permission_denied",
    )


async def test_expired_student_token_is_refused(database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from practicegen.auth import service
    from practicegen.auth.principal import DEFAULT_TENANT_ID
    from practicegen.bootstrap import prepare
    from practicegen.db.engine import create_engine, create_sessionmaker
    from practicegen.db.models import Student

    settings = make_settings(database_url)
    await prepare(settings)
    engine = create_engine(settings)
    past = datetime.now(UTC) - timedelta(hours=2)
    async with create_sessionmaker(engine)() as session, session.begin():
        student = Student(tenant_id=DEFAULT_TENANT_ID)
        session.add(student)
        await session.flush()
        issued = await service.mint_student_token(
            session, tenant_id=DEFAULT_TENANT_ID, student_id=student.id, ttl_s=60, now=past
        )
    await engine.dispose()
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        response = await http.get(f"/api/v1/students/{student.id}", headers=bearer(issued.secret))
        assert_error(response, 401, "not_authenticated")


async def test_the_node_reads_the_time_from_the_clock_it_was_given(settings: Settings) -> None:
    from datetime import UTC, datetime

    from tests.conftest import ADMIN_KEY

    then = datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    async with (
        started_app(settings, clock=lambda: then) as app,
        in_process_client(app, headers=bearer(ADMIN_KEY), timeout=30) as http,
    ):
        student = (await http.post("/api/v1/students", json={"display_name": "Ada"})).json()
        body = {"student_id": student["data"]["student_id"], "ttl_s": 3600}
        token = (await http.post("/api/v1/tokens", json=body)).json()["data"]
        assert datetime.fromisoformat(token["expires_at"]) == then.replace(hour=8)
        # the token is good on the node's clock, though long expired on the wall's
        mine = await http.get(
            "/api/v1/students/" + body["student_id"], headers=bearer(token["token"])
        )
        assert mine.status_code == 200
        revoked = await http.delete(f"/api/v1/tokens/{token['token_id']}")
        assert datetime.fromisoformat(revoked.json()["data"]["revoked_at"]) == then


async def test_auth_off_acts_as_default_admin(database_url: str) -> None:
    from practicegen.bootstrap import prepare

    settings = make_settings(database_url, auth="off", api_key=None)
    await prepare(settings)
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        created = await http.post("/api/v1/students", json={"display_name": "open"})
        assert created.status_code == 201


async def test_first_start_makes_exactly_one_admin_key(empty_database_url: str) -> None:
    from practicegen.bootstrap import prepare

    settings = make_settings(empty_database_url, api_key=None)
    first, second = await prepare(settings), await prepare(settings)
    assert first.new_admin_key is not None and first.new_admin_key.startswith("pgen_sk_")
    assert second.new_admin_key is None
    async with (
        running_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url, headers=bearer(first.new_admin_key)) as http,
    ):
        assert (await http.get("/api/v1/keys")).status_code == 200


async def test_concurrent_duplicate_external_id_yields_one_student(
    client: httpx.AsyncClient,
) -> None:
    body = {"external_id": f"sis-{uuid.uuid4().hex[:6]}"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/students", json=body) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses]
    assert set(statuses) <= {201, 409}
