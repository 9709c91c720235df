"""The baseline for HTTP benchmarks: a FastAPI endpoint doing one indexed read, nothing else.

Built on the same settings, engine and uvicorn as the service, so the ratio between an endpoint
and this one measures what the endpoint's own work costs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import select

from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.models import Student


def create() -> FastAPI:
    settings = Settings()
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/{student_id}")
    async def bare(student_id: uuid.UUID) -> dict[str, object]:
        async with sessionmaker() as session:
            row = (
                await session.execute(
                    select(Student.id, Student.display_name).where(Student.id == student_id)
                )
            ).one()
        return {"success": True, "data": {"student_id": str(row[0]), "display_name": row[1]}}

    return app
