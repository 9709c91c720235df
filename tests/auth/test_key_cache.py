"""A node's memory of checked keys: how long it trusts them, and when it stops at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from practicegen.auth.cache import KeyCache
from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.bootstrap import prepare
from practicegen.errors import NotAuthenticated
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import running_server

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def principal() -> Principal:
    return Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.SERVER, key_id=uuid.uuid4())


def test_a_key_is_trusted_for_the_ttl_then_checked_again() -> None:
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    who = principal()
    cache.put("h", who, expires_at=None)
    clock.t += 4.9
    assert cache.get("h", NOW) == who
    clock.t += 0.2
    assert cache.get("h", NOW) is None


def test_a_token_is_never_trusted_past_its_own_expiry() -> None:
    cache = KeyCache(60, clock=Clock())
    cache.put("h", principal(), expires_at=NOW + timedelta(seconds=1))
    assert cache.get("h", NOW) is not None
    assert cache.get("h", NOW + timedelta(seconds=1)) is None


def test_forgetting_a_key_stops_trusting_it_at_once() -> None:
    cache = KeyCache(60, clock=Clock())
    revoked, other = principal(), principal()
    cache.put("a", revoked, expires_at=None)
    cache.put("b", other, expires_at=None)
    cache.forget(revoked.key_id)  # type: ignore[arg-type]
    assert cache.get("a", NOW) is None
    assert cache.get("b", NOW) == other


async def test_a_burst_with_one_unchecked_key_checks_it_once() -> None:
    cache = KeyCache(5.0)
    checks: list[str] = []
    release = asyncio.Event()

    async def check() -> Principal:
        checks.append("checked")
        await release.wait()
        return known

    known = principal()
    callers = [asyncio.create_task(cache.check_once("h", check)) for _ in range(50)]
    await asyncio.sleep(0)
    callers[0].cancel()  # one caller leaves: the others still get the answer
    release.set()
    results = await asyncio.gather(*callers[1:])
    assert checks == ["checked"] and all(r is known for r in results)

    async def refuse() -> Principal:
        checks.append("refused")
        raise NotAuthenticated()

    for _ in range(2):  # a failed check is not remembered: the next caller checks again
        with pytest.raises(NotAuthenticated):
            await asyncio.gather(*(cache.check_once("h", refuse) for _ in range(10)))
    assert checks == ["checked", "refused", "refused"]


def test_a_zero_ttl_remembers_nothing_and_the_memory_is_bounded() -> None:
    off = KeyCache(0, clock=Clock())
    off.put("h", principal(), None)
    assert off.get("h", NOW) is None
    cache = KeyCache(60, max_entries=2, clock=Clock())
    for key_hash in ("a", "b", "c"):
        cache.put(key_hash, principal(), expires_at=None)
    assert cache.get("a", NOW) is None  # the oldest made room
    assert cache.get("b", NOW) is not None and cache.get("c", NOW) is not None


async def test_a_key_revoked_on_one_node_is_refused_on_another_within_the_ttl(
    database_url: str,
) -> None:
    settings = make_settings(database_url, auth_cache_s=1.0)
    await prepare(settings)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as node_a,
        running_server(settings) as node_b,
        httpx.AsyncClient(base_url=node_a.base_url, headers=admin) as on_a,
        httpx.AsyncClient(base_url=node_b.base_url) as on_b,
    ):
        created = (await on_a.post("/api/v1/keys", json={"name": "backend"})).json()["data"]
        key = {"Authorization": f"Bearer {created['key']}"}
        assert (await on_b.get("/api/v1/students", headers=key)).status_code == 200  # now known
        revoked = await on_a.delete(f"/api/v1/keys/{created['key_id']}")
        assert revoked.status_code == 200
        assert_error(await on_a.get("/api/v1/students", headers=key), 401, "not_authenticated")
        await asyncio.sleep(1.1)
        assert_error(await on_b.get("/api/v1/students", headers=key), 401, "not_authenticated")
