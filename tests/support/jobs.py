"""A job row already running its first attempt, for tests and benchmarks that move jobs by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db.models import Job


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
