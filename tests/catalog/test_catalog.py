"""GET /api/v1/catalog on both backends: the generators' skills with the tenant's bank counts,
what can write more of each, who may read it, and that the counts cost one statement."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.bootstrap import prepare
from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.catalog.service import read_catalog
from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from tests.api.factories import item_body
from tests.api.test_auth import bearer, new_tenant_key
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import RunningServer, in_process_client, started_app

WORD_PROBLEMS = {"topic": "Word Problems", "skill": "word_problems.ages"}
CHEMISTRY = {"subject": "Chemistry", "topic": "Moles", "skill": "moles.convert"}


async def import_rows(client: httpx.AsyncClient, rows: list[dict[str, Any]]) -> None:
    document = {"format": "practicegen-bank", "version": 1, "items": rows}
    report = (await client.post("/api/v1/items/import", json=document)).json()["data"]
    assert report["imported"] == len(rows), report


async def seed(client: httpx.AsyncClient) -> None:
    """Three two-step items (one then retired), two bank-only word problems, one chemistry."""
    rows = [item_body(stem=f"Solve $2x + {k} = {8 + k}$.", answer="x = 4") for k in range(3)]
    rows += [item_body(**WORD_PROBLEMS, stem=f"Ages {k}?") for k in range(2)]
    rows.append(item_body(**CHEMISTRY, stem="Moles in $18$ g of water?", answer="1"))
    await import_rows(client, rows)
    listed = await client.get("/api/v1/items", params={"skill": "linear_equations.two_step"})
    retired = listed.json()["data"]["items"][0]["item_id"]
    assert (await client.post(f"/api/v1/items/{retired}/retire")).status_code == 200


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


def skill_of(catalog: dict[str, Any], subject: str, topic: str, skill: str) -> dict[str, Any]:
    topics = by_name(by_name(catalog["subjects"])[subject]["topics"])
    return next(s for s in topics[topic]["skills"] if s["skill"] == skill)


async def test_the_catalogue_merges_the_generators_and_the_bank(client: httpx.AsyncClient) -> None:
    empty = (await client.get("/api/v1/catalog")).json()["data"]
    assert empty["model_configured"] is False
    assert [s["name"] for s in empty["subjects"]] == ["Algebra", "Arithmetic", "Geometry"]
    listed = {
        (subject["name"], topic["name"], skill["skill"])
        for subject in empty["subjects"]
        for topic in subject["topics"]
        for skill in topic["skills"]
    }
    assert listed == {(s.subject, s.topic, s.skill) for s in GENERATOR_SKILLS}
    assert all(s["item_count"] == 0 and s["generation"] == "offline" for s in empty["subjects"])

    await seed(client)
    catalog = (await client.get("/api/v1/catalog")).json()["data"]
    subjects = by_name(catalog["subjects"])
    assert list(subjects) == ["Algebra", "Arithmetic", "Chemistry", "Geometry"]
    two_step = skill_of(catalog, "Algebra", "Linear Equations", "linear_equations.two_step")
    assert two_step["item_count"] == 2  # the retired item is not counted
    assert two_step["generation"] == "offline" and two_step["levels"] == 4
    assert two_step["description"].startswith("Solve a*x + b = c")
    ages = skill_of(catalog, "Algebra", "Word Problems", "word_problems.ages")
    assert ages == {
        "skill": "word_problems.ages",
        "description": None,
        "levels": None,
        "item_count": 2,
        "generation": "bank",
    }
    algebra = by_name(subjects["Algebra"]["topics"])
    assert algebra["Word Problems"]["generation"] == "bank"
    assert subjects["Algebra"]["item_count"] == 4 and subjects["Algebra"]["generation"] == "offline"
    assert subjects["Chemistry"]["generation"] == "bank"
    assert subjects["Chemistry"]["item_count"] == 1


async def test_with_a_model_what_the_generators_lack_needs_the_model(database_url: str) -> None:
    settings = make_settings(database_url, llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    await prepare(settings)
    headers = bearer(ADMIN_KEY)
    async with started_app(settings) as app, in_process_client(app, headers=headers) as client:
        await seed(client)
        catalog = (await client.get("/api/v1/catalog")).json()["data"]
    assert catalog["model_configured"] is True
    subjects = by_name(catalog["subjects"])
    assert subjects["Chemistry"]["generation"] == "model"
    assert by_name(subjects["Algebra"]["topics"])["Word Problems"]["generation"] == "model"
    ages = skill_of(catalog, "Algebra", "Word Problems", "word_problems.ages")
    assert ages["generation"] == "model"
    two_step = skill_of(catalog, "Algebra", "Linear Equations", "linear_equations.two_step")
    assert two_step["generation"] == "offline"


async def test_every_caller_reads_its_own_tenants_catalogue_only(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, server: RunningServer
) -> None:
    await seed(client)
    other = bearer(await new_tenant_key(client, server.settings))
    theirs = (await anonymous.get("/api/v1/catalog", headers=other)).json()["data"]
    assert "Chemistry" not in by_name(theirs["subjects"])
    assert all(s["item_count"] == 0 for s in theirs["subjects"])

    student = (await client.post("/api/v1/students", json={"display_name": "Sam"})).json()
    minted = await client.post("/api/v1/tokens", json={"student_id": student["data"]["student_id"]})
    as_student = bearer(minted.json()["data"]["token"])
    seen = await anonymous.get("/api/v1/catalog", headers=as_student)
    assert seen.status_code == 200
    assert by_name(seen.json()["data"]["subjects"])["Chemistry"]["item_count"] == 1

    assert_error(await anonymous.get("/api/v1/catalog"), 401, "not_authenticated")
    assert_error(
        await anonymous.get("/api/v1/catalog", headers=bearer("pgen_sk_x")),
        401,
        "not_authenticated",
    )
    assert_error(await client.get("/api/v1/catalog", params={"x": "\x00"}), 422, "invalid_text")


async def test_the_bank_counts_cost_one_statement(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await seed(client)
    engine = create_engine(settings)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    principal = Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.ADMIN)
    try:
        async with create_sessionmaker(engine)() as session:
            catalog = await read_catalog(session, principal=principal, model_configured=False)
    finally:
        await engine.dispose()
    assert len([s for s in statements if "items" in s]) == 1, statements
    assert "GROUP BY" in statements[-1]
    assert by_name(catalog.model_dump()["subjects"])["Chemistry"]["item_count"] == 1


async def test_the_document_describes_the_catalogue_and_the_name_rule(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    answer = spec["paths"]["/api/v1/catalog"]["get"]["responses"]["200"]
    envelope = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schemas[envelope]["properties"]["data"]["$ref"].endswith("/CatalogRead")
    assert schemas["Generation"]["enum"] == ["offline", "model", "bank"]
    assert set(schemas["SkillEntry"]["required"]) == {
        "skill",
        "description",
        "levels",
        "item_count",
        "generation",
    }
    for body, names in (
        ("AssignRequest", ("subject", "topic")),
        ("AsyncAssignRequest", ("subject", "topic")),
        ("ItemCreate", ("subject", "topic")),
        ("ItemUpdate", ("topic",)),
        ("GoalCreate", ("subject",)),
    ):
        for name in names:
            assert "ignoring case" in schemas[body]["properties"][name]["description"], body
    for path in ("/api/v1/items", "/api/v1/goals"):
        parameters = spec["paths"][path]["get"]["parameters"]
        subject = next(p for p in parameters if p["name"] == "subject")
        assert "ignoring case" in subject["description"]
