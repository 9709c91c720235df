-- Language-model tokens each tenant spent per UTC day, for the daily token budget.
BEGIN;

CREATE TABLE IF NOT EXISTS llm_usage (
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    tokens     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

INSERT INTO schema_migrations (version) VALUES ('006') ON CONFLICT (version) DO NOTHING;
COMMIT;
