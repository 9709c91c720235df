"""Liveness and readiness for load balancers and orchestrators.

`/healthz` says the process answers; `/readyz` says it can serve: the database answers through
the app's own pool and every migration this build knows has been applied.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from practicegen.api.deps import SettingsDep, get_sessionmaker
from practicegen.api.errors import error_response
from practicegen.db import migrator
from practicegen.db.engine import SessionMaker

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, object]:
    return {"success": True, "data": {"status": "ok"}}


@router.get("/readyz", response_model=None)
async def readyz(
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)], settings: SettingsDep
) -> JSONResponse:
    try:
        async with sessionmaker() as session:
            rows = await session.execute(text("SELECT version FROM schema_migrations"))
            applied = {str(r[0]) for r in rows}
    except Exception as exc:  # whatever stops the query, the answer is "not ready"
        return error_response(
            503,
            "database_unavailable",
            "The database does not answer or has no schema.",
            {"error": type(exc).__name__},
        )
    known = migrator.available_migrations(database_url=settings.database_url)
    missing = [m.version for m in known if m.version not in applied]
    if missing:
        return error_response(
            503, "migrations_pending", "Run `practicegen db upgrade`.", {"missing": missing}
        )
    return JSONResponse(
        {"success": True, "data": {"status": "ready", "migrations": sorted(applied)}}
    )
