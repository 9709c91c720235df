"""Liveness and readiness: `/healthz` says the process answers; `/readyz` that the database
answers, every migration this build knows is applied, and `Readiness` holds. Each 503 names
what is wrong in its `code`.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.api.deps import ContainerDep
from practicegen.api.errors import error_response
from practicegen.db import migrator
from practicegen.health.readiness import Readiness
from practicegen.jobs import presence

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, object]:
    return {"success": True, "data": {"status": "ok"}}


@router.get("/readyz", response_model=None)
async def readyz(container: ContainerDep) -> JSONResponse:
    readiness = container.part(Readiness)
    if (problem := readiness.local_problem()) is not None:
        return error_response(503, problem.code, problem.message, problem.details)
    try:
        async with container.sessionmaker() as session:
            applied, missing = await _migrations(session, container.settings.database_url)
            if missing:
                return error_response(
                    503, "migrations_pending", "Run `practicegen db upgrade`.", {"missing": missing}
                )
            workers = await presence.look(session, stale_s=container.settings.worker_stale_s)
    except Exception as exc:  # whatever stops the query, the answer is "not ready"
        message = "The database does not answer or has no schema."
        return error_response(503, "database_unavailable", message, {"error": type(exc).__name__})
    if (problem := readiness.workers_problem(workers)) is not None:
        return error_response(503, problem.code, problem.message, problem.details)
    ready = {"status": "ready", "migrations": applied, "workers": workers.as_dict()}
    return JSONResponse({"success": True, "data": ready})


async def _migrations(session: AsyncSession, database_url: str) -> tuple[list[str], list[str]]:
    """The migrations applied, and those this build knows that are not."""
    rows = await session.execute(text("SELECT version FROM schema_migrations"))
    applied = {str(r[0]) for r in rows}
    known = migrator.available_migrations(database_url=database_url)
    return sorted(applied), [m.version for m in known if m.version not in applied]
