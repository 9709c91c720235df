-- Webhook signing secrets (several live at once while one is rotated) and the log of every
-- delivery attempt. Deliveries themselves are rows of `jobs` (job_type 'webhook_delivery').
BEGIN;

CREATE TABLE IF NOT EXISTS webhook_secrets (
    id          UUID NOT NULL PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at  TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS webhook_secrets_tenant ON webhook_secrets (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS webhook_attempts (
    id             UUID NOT NULL PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    delivery_id    UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    source_job_id  UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt        INTEGER NOT NULL,
    status_code    INTEGER,
    error          TEXT,
    duration_ms    DOUBLE PRECISION NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS webhook_attempts_source ON webhook_attempts (source_job_id, created_at);

INSERT INTO schema_migrations (version) VALUES ('005') ON CONFLICT (version) DO NOTHING;
COMMIT;
