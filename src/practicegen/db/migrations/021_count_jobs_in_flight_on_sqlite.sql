-- dialect: sqlite
-- Each tenant's jobs in flight, counted as they change, which every job creation checks against
-- the tenant's limit: migration 008's table on SQLite. Counting the tenant's live jobs through
-- migration 007's index instead cost each creation a step for every job the tenant already had
-- queued, and a tenant's queue may be long. Triggers on jobs keep the count, so every path that
-- moves a job in or out of flight keeps it true. A tenant has one row (shard 0): SQLite runs one
-- writer at a time, so no creation waits on another's row; the count is still read as the sum
-- of the tenant's rows, as on PostgreSQL. In flight: pending or processing, and not one of the
-- service's own webhook deliveries (the predicate of migration 007's index).
BEGIN;

CREATE TABLE IF NOT EXISTS job_counts (
    tenant_id UUID NOT NULL,
    shard     INTEGER NOT NULL,
    in_flight INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, shard)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS jobs_in_flight_added AFTER INSERT ON jobs
WHEN NEW.status IN ('pending', 'processing') AND NEW.job_type <> 'webhook_delivery'
BEGIN
    INSERT INTO job_counts (tenant_id, shard, in_flight) VALUES (NEW.tenant_id, 0, 1)
    ON CONFLICT (tenant_id, shard) DO UPDATE SET in_flight = in_flight + 1;
END;

CREATE TRIGGER IF NOT EXISTS jobs_in_flight_removed AFTER DELETE ON jobs
WHEN OLD.status IN ('pending', 'processing') AND OLD.job_type <> 'webhook_delivery'
BEGIN
    INSERT INTO job_counts (tenant_id, shard, in_flight) VALUES (OLD.tenant_id, 0, -1)
    ON CONFLICT (tenant_id, shard) DO UPDATE SET in_flight = in_flight - 1;
END;

-- A status change moves a job in (+1) or out (-1) of flight, or neither (no write).
CREATE TRIGGER IF NOT EXISTS jobs_in_flight_moved AFTER UPDATE OF status ON jobs
WHEN NEW.job_type <> 'webhook_delivery'
    AND (OLD.status IN ('pending', 'processing')) <> (NEW.status IN ('pending', 'processing'))
BEGIN
    INSERT INTO job_counts (tenant_id, shard, in_flight)
    VALUES (NEW.tenant_id, 0, CASE WHEN NEW.status IN ('pending', 'processing') THEN 1 ELSE -1 END)
    ON CONFLICT (tenant_id, shard) DO UPDATE SET in_flight = in_flight + excluded.in_flight;
END;

-- BEGIN IMMEDIATE holds every other writer off while the count of the jobs already there is
-- taken, so an upgraded database's count is exact from its first creation on.
DELETE FROM job_counts;
INSERT INTO job_counts (tenant_id, shard, in_flight)
SELECT tenant_id, 0, count(*) FROM jobs
WHERE status IN ('pending', 'processing') AND job_type <> 'webhook_delivery'
GROUP BY tenant_id;

-- Nothing on SQLite counts through migration 007's index any more.
DROP INDEX IF EXISTS jobs_in_flight;

INSERT INTO schema_migrations (version) VALUES ('021') ON CONFLICT (version) DO NOTHING;
COMMIT;
