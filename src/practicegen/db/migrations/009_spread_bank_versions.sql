-- Each tenant's bank version, spread over several rows: the version is the sum of the tenant's
-- rows, and a transaction that changes the tenant's items adds one to a single row of its
-- choosing. Kept on the tenant's own row, every such transaction held that one row's lock from
-- its bump to its commit, so a thousand jobs storing what they generated committed one after
-- another, each waiting out the others' commits (items/bank_changes.py).
-- tenants.bank_version is no longer read or written. It stays while nodes of the previous
-- release may still be running during an upgrade (they bump it, and their NOTIFY still reaches
-- the new nodes); a later migration drops it.
BEGIN;

CREATE TABLE IF NOT EXISTS bank_versions (
    tenant_id UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    shard     SMALLINT NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, shard)
);

INSERT INTO bank_versions (tenant_id, shard, version)
    SELECT id, 0, bank_version FROM tenants WHERE bank_version > 0
    ON CONFLICT (tenant_id, shard) DO NOTHING;

INSERT INTO schema_migrations (version) VALUES ('009') ON CONFLICT (version) DO NOTHING;
COMMIT;
