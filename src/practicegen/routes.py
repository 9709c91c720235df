"""The HTTP surface: every router in the order requests try them, the OpenAPI document that
describes them, and CORS when configured."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from practicegen.api.openapi import install_openapi
from practicegen.auth import endpoints as auth_endpoints
from practicegen.batches import endpoints as batch_endpoints
from practicegen.batches import streams as batch_streams
from practicegen.catalog import endpoints as catalog_endpoints
from practicegen.classes import endpoints as class_endpoints
from practicegen.config import Settings
from practicegen.goals import endpoints as goal_endpoints
from practicegen.health import endpoints as health
from practicegen.items import endpoints as item_endpoints
from practicegen.jobs import endpoints as job_endpoints
from practicegen.jobs import streams as job_streams
from practicegen.practice import endpoints as practice_endpoints
from practicegen.reports import endpoints as report_endpoints
from practicegen.students import endpoints as student_endpoints
from practicegen.tenants import endpoints as tenant_endpoints
from practicegen.web import api_docs
from practicegen.web import pages as web_pages
from practicegen.webhooks import endpoints as webhook_endpoints

_EXPOSED_HEADERS = ("Location", "Retry-After", "ETag", "X-Request-ID", "Idempotent-Replayed")
"""The response headers a browser client may read: what the API's answers mean to it."""


def install_routes(app: FastAPI, settings: Settings) -> None:
    """Every router, the OpenAPI document that describes them, and CORS when configured."""
    # A request's route is found by trying each route in turn: the busiest come first. The
    # routers' routes are the app's own, not included: `include_router` would build each route's
    # request handling again for every app and add a layer each request goes through, where
    # these routes, complete with their paths, were built once when their modules loaded.
    for router in (
        practice_endpoints.router,
        job_endpoints.router,
        job_streams.router,
        health.router,
        auth_endpoints.router,
        student_endpoints.router,
        goal_endpoints.router,
        class_endpoints.router,
        batch_endpoints.router,
        batch_streams.router,
        report_endpoints.router,
        item_endpoints.router,
        catalog_endpoints.router,
        job_endpoints.metrics_router,
        webhook_endpoints.router,
        tenant_endpoints.router,
        web_pages.router,
        api_docs.router,
    ):
        app.router.routes.extend(router.routes)
    install_openapi(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=list(_EXPOSED_HEADERS),
        )
