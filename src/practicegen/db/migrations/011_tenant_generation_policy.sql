-- What a tenant requires of generated questions before they are accepted. A tenant without a
-- row has the defaults. `require_check_model`: a multiple-choice question a model wrote is
-- accepted only when a second, different model agrees with its key, never on the writer's
-- self-consistency alone. A table of its own rather than columns of `tenants`, so that the
-- file stays idempotent on SQLite too (which has no ADD COLUMN IF NOT EXISTS).
-- (No 010: the numbers need not be consecutive, only ordered.)
BEGIN;

CREATE TABLE IF NOT EXISTS tenant_generation_policies (
    tenant_id            UUID NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    require_check_model  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO schema_migrations (version) VALUES ('011') ON CONFLICT (version) DO NOTHING;
COMMIT;
