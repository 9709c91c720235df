"""Liveness and readiness for load balancers and orchestrators.

`/healthz` says the process answers; `/readyz` that it can do its job: the database answers
through the app's pool, every migration this build knows is applied, and `readiness.Readiness`
holds. Each 503 names what is wrong in its `code`; the node turns ready by itself once mended.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from practicegen.api.deps import ContainerDep
from practicegen.api.errors import error_response
from practicegen.db import migrator
from practicegen.health.readiness import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, object]:
    return {"success": True, "data": {"status": "ok"}}


@router.get("/readyz", response_model=None)
async def readyz(container: ContainerDep) -> JSONResponse:
    readiness = container.part(Readiness)
    problem = readiness.local_problem()
    applied: set[str] = set()
    if problem is None:
        try:
            async with container.sessionmaker() as session:
                rows = await session.execute(text("SELECT version FROM schema_migrations"))
                applied = {str(r[0]) for r in rows}
                problem = await readiness.remote_problem(session)
        except Exception as exc:  # whatever stops the query, the answer is "not ready"
            return error_response(
                503,
                "database_unavailable",
                "The database does not answer or has no schema.",
                {"error": type(exc).__name__},
            )
        known = migrator.available_migrations(database_url=container.settings.database_url)
        missing = [m.version for m in known if m.version not in applied]
        if missing:
            return error_response(
                503, "migrations_pending", "Run `practicegen db upgrade`.", {"missing": missing}
            )
    if problem is not None:
        return error_response(503, problem.code, problem.message, problem.details)
    return JSONResponse(
        {"success": True, "data": {"status": "ready", "migrations": sorted(applied)}}
    )
