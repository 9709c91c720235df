"""The mapped tables, as `migrations/` defines them, with types that behave alike on SQLite
(aware UTC datetimes, JSON)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    ForeignKey,
    Select,
    SmallInteger,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from practicegen.clock import utcnow

JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(moment, datetime)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # beside SQLAlchemy's own for uuid.UUID, int, float and bool
        datetime: UTCDateTime(),
        str: Text(),
        dict[str, Any]: JSONDocument,
        list[Any]: JSONDocument,
    }


def core_table(model: type[Base]) -> Table:
    """A mapped model's Core table, for hot paths that skip the ORM's work per execution."""
    return cast(Table, model.__table__)


class TenantOwned:
    """A row of one tenant's, named by an id of its own and stamped when it was made."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Updated:
    """A row stamped each time it changes."""

    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str]
    bank_version: Mapped[int] = mapped_column(BigInteger, default=0)  # unused since 009
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankVersion(Base):
    """A share of a tenant's bank version: the version is the sum of the tenant's shares."""

    __tablename__ = "bank_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def bank_version_of(tenant_id: uuid.UUID | ColumnElement[uuid.UUID]) -> Select[Any]:
    """The bank version of `tenant_id` (0 before its first change), as a one-row query."""
    shares = core_table(BankVersion)
    return select(func.coalesce(func.sum(shares.c.version), 0)).where(
        shares.c.tenant_id == tenant_id
    )


class TenantGenerationPolicy(Updated, Base):
    """What a tenant requires of generated questions; a tenant without a row has the defaults."""

    __tablename__ = "tenant_generation_policies"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    require_check_model: Mapped[bool] = mapped_column(default=False)


class Student(TenantOwned, Updated, Base):
    __tablename__ = "students"

    external_id: Mapped[str | None]
    display_name: Mapped[str | None]
    grade_level: Mapped[int | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Class(TenantOwned, Updated, Base):
    __tablename__ = "classes"

    name: Mapped[str]


class ClassMember(Base):
    __tablename__ = "class_members"

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id"), primary_key=True)
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_keys"

    name: Mapped[str]
    role: Mapped[str]
    key_hash: Mapped[str]
    key_suffix: Mapped[str]
    student_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("students.id"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Goal(TenantOwned, Updated, Base):
    __tablename__ = "goals"

    name: Mapped[str]
    subject: Mapped[str]
    skills: Mapped[list[Any]]
    description: Mapped[str | None]


class Item(TenantOwned, Updated, Base):
    __tablename__ = "items"

    subject: Mapped[str]
    topic: Mapped[str]
    skill: Mapped[str]
    type: Mapped[str]
    stem: Mapped[str]
    answer: Mapped[str]
    answer_policy: Mapped[str]
    tolerance: Mapped[float | None]
    choices: Mapped[list[Any]] = mapped_column(default=list)
    hints: Mapped[list[Any]] = mapped_column(default=list)
    solution: Mapped[str | None]
    difficulty: Mapped[float]
    responses_n: Mapped[int] = mapped_column(default=0)
    source: Mapped[str]
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fingerprint: Mapped[str]
    status: Mapped[str] = mapped_column(default="active")


class Assignment(TenantOwned, Base):
    __tablename__ = "assignments"

    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"))
    subject: Mapped[str]
    topic: Mapped[str | None]
    num_items: Mapped[int]
    goal_tags: Mapped[list[Any]] = mapped_column(default=list)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    bank_count: Mapped[int]
    generated_count: Mapped[int]


class AssignmentItem(Base):
    __tablename__ = "assignment_items"

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    skill: Mapped[str]
    predicted_success: Mapped[float]
    reason: Mapped[str]


class Response(TenantOwned, Base):
    __tablename__ = "responses"

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id"))
    position: Mapped[int]
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"))
    answer: Mapped[str]
    correct: Mapped[bool]
    feedback_code: Mapped[str]
    predicted: Mapped[float]


class LearnerSkill(Updated, Base):
    __tablename__ = "learner_skills"

    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    theta: Mapped[float]
    responses_n: Mapped[int] = mapped_column(default=0)


class Job(TenantOwned, Updated, Base):
    __tablename__ = "jobs"

    job_type: Mapped[str]
    status: Mapped[str] = mapped_column(default="pending")
    progress_percent: Mapped[int] = mapped_column(default=0)
    progress_message: Mapped[str | None]
    student_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("students.id"))
    request: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None]
    error_code: Mapped[str | None]
    attempt: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    idempotency_key: Mapped[str | None]
    request_hash: Mapped[str | None]
    webhook_url: Mapped[str | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    run_after: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    traceparent: Mapped[str | None]  # the creating span's W3C trace context (`tracing`)


class WebhookSecret(TenantOwned, Base):
    __tablename__ = "webhook_secrets"

    secret: Mapped[str]
    expires_at: Mapped[datetime | None]


class WebhookAttempt(TenantOwned, Base):
    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    source_job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None]
    duration_ms: Mapped[float]


class LlmUsage(Base):
    """Tokens a tenant's jobs spent on a language model in one UTC day (`YYYY-MM-DD`)."""

    __tablename__ = "llm_usage"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[str] = mapped_column(primary_key=True)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)


class Worker(Base):
    """A running job worker, as it last said so (`jobs/presence.py`)."""

    __tablename__ = "workers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    host: Mapped[str]
    pid: Mapped[int]
    version: Mapped[str]
    concurrency: Mapped[int]
    lanes: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    last_seen: Mapped[datetime]
