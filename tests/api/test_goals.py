"""Goals over HTTP, and the wall between tenants."""

from __future__ import annotations

import httpx

from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.support.server import RunningServer

GOAL = {
    "name": "Solve linear equations",
    "subject": "Algebra",
    "skills": ["linear_equations.two_step"],
}


async def test_create_read_list_update(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/goals", json=GOAL)
    assert created.status_code == 201
    goal_id = created.json()["data"]["goal_id"]
    fetched = (await client.get(f"/api/v1/goals/{goal_id}")).json()["data"]
    assert fetched["skills"] == ["linear_equations.two_step"]
    patched = await client.patch(f"/api/v1/goals/{goal_id}", json={"skills": ["a.b", "a.b", "c.d"]})
    assert patched.json()["data"]["skills"] == ["a.b", "c.d"]
    listed = (await client.get("/api/v1/goals", params={"subject": "Algebra"})).json()["data"]
    assert [g["goal_id"] for g in listed["items"]] == [goal_id]


async def test_bad_goals_are_refused(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/api/v1/goals", json={**GOAL, "skills": []}), 422, "validation_error"
    )
    assert_error(
        await client.post("/api/v1/goals", json={**GOAL, "skills": ["Not A Skill"]}),
        422,
        "validation_error",
    )


async def test_goals_are_tenant_scoped(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer
) -> None:
    goal_id = (await client.post("/api/v1/goals", json=GOAL)).json()["data"]["goal_id"]
    other = bearer(await new_tenant_key(client, server.settings))
    assert_error(
        await anonymous.get(f"/api/v1/goals/{goal_id}", headers=other), 404, "goal_not_found"
    )
    assert_error(
        await anonymous.patch(f"/api/v1/goals/{goal_id}", json={"name": "x"}, headers=other),
        404,
        "goal_not_found",
    )
    assert (await anonymous.get("/api/v1/goals", headers=other)).json()["data"]["items"] == []
