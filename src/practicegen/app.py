"""The composition root: builds the FastAPI app from settings and wires every adapter.

This is the one place that decides which implementations run (SQLite or PostgreSQL, which
queue, which generators); everything below receives what it needs through `app.state` and
dependencies, so tests build the same app from their own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from practicegen import __version__
from practicegen.api import health
from practicegen.api.errors import install_error_handlers
from practicegen.api.middleware import RequestContextMiddleware
from practicegen.auth import endpoints as auth_endpoints
from practicegen.config import AuthMode, Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.goals import endpoints as goal_endpoints
from practicegen.items import endpoints as item_endpoints
from practicegen.items.candidates import CandidateCache
from practicegen.practice import endpoints as practice_endpoints
from practicegen.practice.grader import Grader
from practicegen.students import endpoints as student_endpoints

log = structlog.get_logger()


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auth is AuthMode.OFF:
            log.warning("auth.disabled", detail="PRACTICEGEN_AUTH=off: every caller is admin")
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        grader = Grader(
            workers=settings.grader_workers,
            timeout_s=settings.grader_timeout_s,
            max_answer_length=settings.max_answer_length,
        )
        app.state.grader = grader
        app.state.gap_filler = None
        app.state.candidates = CandidateCache(max_age_s=settings.candidate_cache_s)
        try:
            yield
        finally:
            await grader.aclose()
            await engine.dispose()

    app = FastAPI(
        title="practicegen",
        version=__version__,
        summary="Assigns practice to students and generates, verified, what the bank lacks.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in (
        health.router,
        auth_endpoints.router,
        student_endpoints.router,
        goal_endpoints.router,
        item_endpoints.router,
        practice_endpoints.router,
    ):
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "Retry-After", "ETag", "X-Request-ID"],
        )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
