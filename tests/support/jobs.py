"""A job row already running its first attempt, for tests and benchmarks that move jobs by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import DatabaseKind, Settings
from practicegen.db.models import Job
from practicegen.jobs.pg_store import POSTGRES_WRITES
from practicegen.jobs.repository import JobWrites
from practicegen.jobs.sqlite_store import SQLITE_WRITES


def running_job(**overrides: Any) -> Job:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "tenant_id": DEFAULT_TENANT_ID,
        "job_type": "practice_generation",
        "status": "processing",
        "progress_percent": 0,
        "progress_message": "Started.",
        "request": {},
        "attempt": 1,
        "max_attempts": 1,
        "seq": 1,
        "created_at": now,
        "updated_at": now,
        "started_at": now,
        "heartbeat_at": now,
    }
    return Job(**(values | overrides))


def store_writes(settings: Settings) -> JobWrites:
    """The job store's own writes on the settings' database, as the app's store has them."""
    return POSTGRES_WRITES if settings.database_kind is DatabaseKind.POSTGRES else SQLITE_WRITES
