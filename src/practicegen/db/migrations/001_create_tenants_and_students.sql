-- Tenants, their API keys and student tokens, students and goals.
-- Written for PostgreSQL (`psql -f`); `practicegen db upgrade` applies the same file, and
-- SQLite receives it with its column types mapped (see practicegen/db/migrator.py).
BEGIN;

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     TEXT NOT NULL PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS tenants (
    id            UUID NOT NULL PRIMARY KEY,
    name          TEXT NOT NULL,
    -- bumped by every change to the tenant's set of items, so caches of the bank can tell
    -- cheaply whether they are current
    bank_version  BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS students (
    id            UUID NOT NULL PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    external_id   TEXT,
    display_name  TEXT,
    grade_level   INTEGER,
    metadata      JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX IF NOT EXISTS students_tenant_created ON students (tenant_id, created_at, id);

-- API keys (role admin or server) and short-lived student tokens (role student) share one
-- table: both are bearer secrets, stored only as a SHA-256 hash and revocable.
CREATE TABLE IF NOT EXISTS api_keys (
    id            UUID NOT NULL PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'server', 'student')),
    key_hash      TEXT NOT NULL UNIQUE,
    key_suffix    TEXT NOT NULL,
    student_id    UUID REFERENCES students (id) ON DELETE CASCADE,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((role = 'student') = (student_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS goals (
    id           UUID NOT NULL PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    skills       JSONB NOT NULL,
    description  TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS goals_tenant_created ON goals (tenant_id, created_at, id);

INSERT INTO schema_migrations (version) VALUES ('001') ON CONFLICT (version) DO NOTHING;
COMMIT;
