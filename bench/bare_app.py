"""Baselines for HTTP benchmarks: FastAPI endpoints doing the least their service counterpart must.

`GET /bare/{student_id}` does one indexed read; `POST /bare/job` inserts one row and sends one
NOTIFY through a psycopg pool on PostgreSQL, and on SQLite inserts one row and commits through
the service's engine (the embedded mode's floor).

Built on the same settings, engine and uvicorn as the service, so the ratio between an endpoint
and this one measures what the endpoint's own work costs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import select, text

from practicegen.config import DatabaseKind, Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.models import Student

_SQLITE_INSERT = text("INSERT INTO bench_jobs (id, payload) VALUES (:id, :payload)")


def create() -> FastAPI:
    settings = Settings()
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)

    pool = AsyncConnectionPool(
        postgres_conninfo(settings.database_url), min_size=4, max_size=10, open=False
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.database_kind is DatabaseKind.POSTGRES:
            await pool.open()
            async with pool.connection() as conn:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS bench_jobs (id UUID PRIMARY KEY, payload JSONB)"
                )
        else:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "CREATE TABLE IF NOT EXISTS bench_jobs (id TEXT PRIMARY KEY, payload TEXT)"
                    )
                )
        yield
        if settings.database_kind is DatabaseKind.POSTGRES:
            await pool.close()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/bare/job")
    async def bare_job() -> dict[str, object]:
        """One row inserted and one NOTIFY sent, in a transaction: the floor for creating a job."""
        job_id = uuid.uuid4()
        if settings.database_kind is DatabaseKind.SQLITE:
            async with sessionmaker() as session:
                await session.execute(_SQLITE_INSERT, {"id": str(job_id), "payload": '{"n": 1}'})
                await session.commit()
            return {"success": True, "job_id": str(job_id)}
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO bench_jobs (id, payload) VALUES (%s, %s)", (job_id, '{"n": 1}')
            )
            await conn.execute("SELECT pg_notify('bench_jobs', %s)", (str(job_id),))
        return {"success": True, "job_id": str(job_id)}

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
