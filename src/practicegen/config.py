"""Settings: the one place that reads the environment (`PRACTICEGEN_*` variables or `.env`),
validated once at start-up and passed down explicitly, so code and tests never read
`os.environ` themselves."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from practicegen.database_url import normalise_database_url
from practicegen.logs import LogFormat


class AuthMode(StrEnum):
    ON = "on"  # every request needs an API key or a student token
    OFF = "off"  # local trials only: everyone acts as the default tenant's admin


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"


Seconds = Annotated[float, Field(gt=0)]
Wait = Annotated[float, Field(ge=0)]
Concurrency = Annotated[int, Field(ge=1, le=10_000)]
Bound = Annotated[int, Field(ge=1, le=100_000)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PRACTICEGEN_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        validate_by_name=True,  # fields with a standard OTEL_ alias are still set by name
    )

    database_url: str = "sqlite+aiosqlite:///./practicegen.db"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_connect_timeout_s: Seconds = 5.0
    db_pool_wait_s: Seconds = Field(
        15.0,
        le=25,
        description="How long an API request waits its turn for a pooled connection (a burst's"
        " creations queue for the pools) before a 503 with Retry-After says to come back.",
    )
    http_keep_alive_s: Seconds = Field(
        20.0,
        le=600,
        description="How long `serve` keeps an idle client connection open; longer than the"
        " clients' own reuse of one, so none sends on a connection the server is closing.",
    )
    db_ping_idle_s: Wait = Field(
        5.0,
        description="A pooled PostgreSQL connection idle this long is pinged when taken from its"
        " pool; one used more recently only has its socket looked at. 0 pings at every checkout.",
    )
    auto_migrate: bool = True
    demo_bank: bool = True

    auth: AuthMode = AuthMode.ON
    api_key: SecretStr | None = None
    auth_cache_s: Wait = Field(
        5.0,
        description="How long a node trusts a key or token it has checked; a key revoked on"
        " another node is refused here within this time. 0 checks every request.",
    )
    student_token_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_num_items: int = Field(default=20, ge=1, le=200)
    list_page_max: int = Field(default=200, ge=1)

    target_success: float = Field(default=0.75, gt=0.05, lt=0.95)
    review_spacing_s: Seconds = 86_400.0
    review_rounds: int = Field(default=3, ge=1, le=20)
    mastery_success: float = Field(default=0.8, gt=0.5, lt=1.0)
    mastery_min_answers: int = Field(default=5, ge=1, le=1000)
    class_max_students: int = Field(default=500, ge=1, le=10_000)
    batch_concurrency: Concurrency = 200
    batch_poll_s: Seconds = 0.25
    recent_assignments_window: int = Field(default=5, ge=0)
    candidate_cache_s: Wait = Field(
        30.0,
        description="Age at which a node reads a subject's item list again (the next request "
        "that uses it does; others use the old list until that read ends).",
    )

    sync_budget_s: Seconds = Field(
        20.0, description="Past this, the sync assign answers 202 with a job."
    )
    run_worker: bool | None = Field(
        default=None,
        description="Run jobs inside `serve`; default: yes on SQLite, no on PostgreSQL.",
    )
    job_concurrency: Concurrency = Field(
        1000,
        description="Jobs one process holds at once. A job waiting on a model holds a task and"
        " a socket (tens of kB), and a pooled connection only while it reads or writes, so the"
        " bound that binds is memory: `job_memory_mb`.",
    )
    job_memory_mb: int = Field(
        450,
        ge=64,
        description="Resident memory (MB) past which a process that runs jobs takes no new"
        " one: the message goes back to the queue, unclaimed, for `job_memory_defer_s`. A"
        " process running no job still takes one.",
    )
    job_memory_defer_s: Seconds = Field(
        1.0, le=60, description="How long a message held back for memory waits queued."
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`practicegen worker` serves its own Prometheus metrics on this port (all"
        " interfaces): jobs running, memory against its bound, attempts; unset: none.",
    )
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    job_max_in_flight: int = Field(default=100, ge=1, description="Per tenant.")
    job_heartbeat_s: Seconds = 2.0
    job_heartbeat_timeout_s: Seconds = 30.0
    job_retry_base_s: Wait = 2.0
    job_retry_cap_s: Wait = 300.0
    job_retention_s: Seconds = 7 * 24 * 3600
    job_retention_sweep_s: Seconds = 300.0
    job_wait_max_s: Seconds = Field(25.0, le=29)
    max_followers: Bound = Field(
        10_000,
        description="Long-polls, event streams and WebSockets a node holds at once; past it,"
        " 503 with Retry-After.",
    )
    sse_ping_s: Seconds = Field(15.0, le=60)
    queue_poll_s: Seconds = 5.0
    db_reconnect_initial_s: Seconds = Field(
        0.5,
        le=60,
        description="First wait before a worker or listener opens a lost connection again;"
        " doubles on each failure, with jitter, up to `db_reconnect_max_s`.",
    )
    db_reconnect_max_s: Seconds = Field(15.0, le=600)
    listener_grace_s: Wait = Field(
        10.0,
        description="How long a node's LISTEN connection may be down before `/readyz` says 503.",
    )
    worker_seen_grace_s: Seconds = Field(
        30.0,
        description="PostgreSQL: how long an API node without its own worker stays ready with"
        " no worker seen lately.",
    )
    worker_heartbeat_s: Seconds = Field(
        5.0, le=300, description="How often a running worker stamps its row of `workers`."
    )
    worker_stale_s: Seconds = Field(
        20.0,
        description="A worker not seen for this long counts as gone (killed, or cut off from"
        " the database); at least twice PRACTICEGEN_WORKER_HEARTBEAT_S.",
    )
    worker_forget_s: Seconds = Field(
        24 * 3600.0, description="A stale worker's row is deleted this long after it was last seen."
    )

    webhook_secret: SecretStr | None = Field(
        default=None, description="The default tenant's whsec_... signing secret."
    )
    webhook_secret_grace_s: Wait = Field(
        24 * 3600,
        le=30 * 24 * 3600,
        description="How long a rotated-out signing secret keeps signing beside the new one.",
    )
    webhook_timeout_s: Seconds = Field(10.0, le=60)
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="Seconds before each delivery attempt (the first is usually 0).",
    )
    webhook_concurrency: Concurrency = Field(
        100,
        description="Webhook deliveries in flight at once, in a lane of their own beside the"
        " jobs' slots (on PostgreSQL across all workers, else in the process).",
    )
    webhook_tenant_share: Concurrency = Field(
        10,
        description="Deliveries of one tenant one process sends at once; more of its"
        " deliveries wait queued while other tenants' are sent.",
    )
    webhook_defer_s: Seconds = Field(
        0.5,
        le=60,
        description="First wait of a delivery deferred past its tenant's share; it doubles at"
        " each deferral, up to PRACTICEGEN_WEBHOOK_TIMEOUT_S.",
    )
    ssrf_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)

    generator_workers: int = Field(default=2, ge=1, le=64)
    generator_timeout_s: Seconds = 10.0
    grader_workers: int = Field(default=2, ge=1, le=64)
    pools_at_start: bool = Field(
        default=True,
        description="serve starts and warms its grading processes (and its sympy processes if it"
        " runs jobs) before /readyz says ready; false: each pool at first use.",
    )
    grader_timeout_s: Seconds = 2.0
    max_answer_length: int = Field(default=200, ge=1, le=10_000)
    answer_max_weight: Bound = Field(
        40,
        description="The cost bound: answers heavier than this (degrees as written, summed) are"
        " graded too_complex without a grading process.",
    )
    grading_queue_slots: Bound = Field(
        64, description="Answers a node holds at once, waiting for or in grading; past it, 503."
    )
    grading_tenant_share: Bound = Field(
        32, description="Of those, at most this many per tenant; 429."
    )
    grading_student_share: Bound = Field(
        4, description="Of those, at most this many per student; 429."
    )

    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible API root, e.g. http://localhost:11434/v1; unset: none.",
    )
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr = SecretStr("unused")
    llm_response_format: Literal["json_schema", "json_object"] = "json_schema"
    llm_timeout_s: Seconds = Field(60.0, description="One model request.")
    llm_concurrency: Concurrency = Field(
        1000,
        description="Model requests in flight per process, each on a connection of its own"
        " (the model client's pool holds as many).",
    )
    llm_attempts_per_question: int = Field(default=3, ge=1, le=10)
    llm_check_timeout_s: Seconds = Field(
        5.0, le=600, description="The sympy check of one model draft, once it runs."
    )
    llm_check_queue_s: Seconds = Field(
        10.0, le=600, description="A draft's wait for a free sympy process."
    )
    llm_self_consistency_samples: int = Field(
        default=5, ge=1, le=15, description="Answers asked of the model for an unsympy-able item."
    )
    llm_check_model: str | None = Field(
        default=None,
        description="A second, different model that must agree with a multiple-choice key"
        " before the item is accepted (it gives the self-consistency answers); unset: the"
        " writing model checks itself.",
    )
    llm_check_base_url: str | None = Field(
        default=None, description="The check model's API root; unset: PRACTICEGEN_LLM_BASE_URL."
    )
    llm_check_api_key: SecretStr | None = Field(
        default=None, description="The check model's key; unset: PRACTICEGEN_LLM_API_KEY."
    )
    llm_daily_token_budget: int | None = Field(
        default=None, ge=1, description="Tokens per tenant per UTC day; unset: no cap."
    )
    llm_tokens_per_question: int = Field(
        default=2_000, ge=1, description="What a job reserves per question against the budget."
    )

    log_level: str = "INFO"
    log_format: LogFormat = Field(
        LogFormat.AUTO,
        description="`auto`: readable lines when stderr is a terminal, JSON lines otherwise;"
        " `json` or `text` to choose.",
    )

    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PRACTICEGEN_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="An OTLP/HTTP collector's root, e.g. http://localhost:4318 (spans go to its"
        " /v1/traces); also read from OTEL_EXPORTER_OTLP_ENDPOINT. Unset: no tracing.",
    )
    otlp_headers: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PRACTICEGEN_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"),
        description="Headers sent with each export, as `name=value,name=value` (a collector's"
        " API key); also read from OTEL_EXPORTER_OTLP_HEADERS.",
    )
    trace_service_name: str = Field(
        "practicegen",
        min_length=1,
        validation_alias=AliasChoices("PRACTICEGEN_TRACE_SERVICE_NAME", "OTEL_SERVICE_NAME"),
        description="The `service.name` spans carry; also read from OTEL_SERVICE_NAME.",
    )
    trace_sample_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="The share of new traces kept; a request that arrives with a `traceparent`"
        " follows its caller's choice.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("cors_origins", "ssrf_allowlist", "webhook_retry_schedule", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_endpoint(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("the OTLP endpoint is an http:// or https:// URL (OTLP over HTTP)")
        return value.strip()

    @field_validator("otlp_headers")
    @classmethod
    def _otlp_headers(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(
            "=" not in pair for pair in value.get_secret_value().split(",") if pair.strip()
        ):
            raise ValueError("OTLP headers are name=value pairs separated by commas")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: list[float]) -> list[float]:
        if not value or any(v < 0 for v in value):
            raise ValueError("the webhook retry schedule is one or more non-negative seconds")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("whsec_"):
            raise ValueError("PRACTICEGEN_WEBHOOK_SECRET must look like whsec_<base64>")
        return value

    @field_validator("api_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 24:
            raise ValueError("PRACTICEGEN_API_KEY must be at least 24 characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """The settings that bound one another."""
        if self.webhook_tenant_share > self.webhook_concurrency:
            raise ValueError("PRACTICEGEN_WEBHOOK_TENANT_SHARE is at most the webhook concurrency")
        if self.db_reconnect_max_s < self.db_reconnect_initial_s:
            raise ValueError("PRACTICEGEN_DB_RECONNECT_MAX_S must be at least the initial wait")
        if not self.grading_student_share <= self.grading_tenant_share <= self.grading_queue_slots:
            raise ValueError(
                "grading shares must nest: student share <= tenant share <= queue slots"
            )
        if self.worker_stale_s < 2 * self.worker_heartbeat_s:
            raise ValueError(
                "PRACTICEGEN_WORKER_STALE_S must be at least twice PRACTICEGEN_WORKER_HEARTBEAT_S"
            )
        if self.llm_check_base_url is not None and self.llm_check_model is None:
            raise ValueError("PRACTICEGEN_LLM_CHECK_BASE_URL needs PRACTICEGEN_LLM_CHECK_MODEL")
        same_server = self.llm_check_base_url in (None, self.llm_base_url)
        if same_server and self.llm_check_model == self.llm_model:
            raise ValueError("PRACTICEGEN_LLM_CHECK_MODEL must name a model other than the writer")
        return self

    @property
    def pool_connections(self) -> int:
        """Connections each of a process's pools keeps at most (SQLAlchemy's, and an API
        node's job-creation pool): twice `db_pool_size`, which names half of it."""
        return 2 * self.db_pool_size

    @property
    def worker_in_process(self) -> bool:
        if self.run_worker is not None:
            return self.run_worker
        return self.database_kind is DatabaseKind.SQLITE

    @property
    def database_kind(self) -> DatabaseKind:
        backend = make_url(self.database_url).get_backend_name()
        return DatabaseKind.POSTGRES if backend == "postgresql" else DatabaseKind.SQLITE
