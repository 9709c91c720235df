-- Durable async jobs: the rows behind GET /api/v1/jobs/{job_id}.
-- status: pending -> processing -> completed | failed | cancelled (terminal states are final).
BEGIN;

CREATE TABLE IF NOT EXISTS jobs (
    id                UUID NOT NULL PRIMARY KEY,
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    job_type          TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    progress_percent  INTEGER NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    progress_message  TEXT,
    student_id        UUID REFERENCES students (id) ON DELETE SET NULL,
    request           JSONB NOT NULL,
    result            JSONB,
    error             TEXT,
    error_code        TEXT,
    attempt           INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 5,
    seq               BIGINT NOT NULL DEFAULT 0,
    idempotency_key   TEXT,
    request_hash      TEXT,
    webhook_url       TEXT,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    started_at        TIMESTAMPTZ,
    heartbeat_at      TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    run_after         TIMESTAMPTZ,
    expires_at        TIMESTAMPTZ,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, updated_at);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_at);

INSERT INTO schema_migrations (version) VALUES ('003') ON CONFLICT (version) DO NOTHING;
COMMIT;
