-- dialect: postgresql
-- Each tenant's jobs in flight, counted as they change, which every job creation checks against
-- the tenant's limit. Counting the tenant's live jobs instead (migration 007's index) cost more
-- the longer its queue grew: each queued job is a heap visit until the table is vacuumed.
-- The count is kept by triggers on jobs, so every path that moves a job in or out of flight
-- keeps it true. It is spread over 16 rows per tenant, each connection adding to the row of its
-- backend pid, so concurrent creations and completions seldom wait on one another's row lock;
-- a tenant's count is the sum of its rows (a row alone may be negative).
-- "In flight": jobs/repository.py's IN_FLIGHT_PREDICATE. PostgreSQL only: on SQLite one
-- process writes, and its count reads the partial index of migration 007 without heap visits.
BEGIN;

CREATE TABLE IF NOT EXISTS job_counts (
    tenant_id UUID NOT NULL,
    shard     SMALLINT NOT NULL,
    in_flight INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, shard)
);

CREATE OR REPLACE FUNCTION jobs_count_in_flight() RETURNS trigger LANGUAGE plpgsql AS $count$
DECLARE
    delta INTEGER := 0;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN ('pending', 'processing')
            AND OLD.job_type <> 'webhook_delivery' THEN
        delta := -1;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN ('pending', 'processing')
            AND NEW.job_type <> 'webhook_delivery' THEN
        delta := delta + 1;
    END IF;
    IF delta <> 0 THEN
        INSERT INTO job_counts AS counted (tenant_id, shard, in_flight)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END,
                pg_backend_pid() % 16, delta)
        ON CONFLICT (tenant_id, shard)
        DO UPDATE SET in_flight = counted.in_flight + EXCLUDED.in_flight;
    END IF;
    RETURN NULL;
END
$count$;

-- No job may change while the triggers start and the count is taken.
LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;

DROP TRIGGER IF EXISTS jobs_in_flight_added ON jobs;
CREATE TRIGGER jobs_in_flight_added AFTER INSERT OR DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_count_in_flight();
DROP TRIGGER IF EXISTS jobs_in_flight_moved ON jobs;
CREATE TRIGGER jobs_in_flight_moved AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_count_in_flight();

DELETE FROM job_counts;
INSERT INTO job_counts (tenant_id, shard, in_flight)
SELECT tenant_id, 0, count(*) FROM jobs
WHERE status IN ('pending', 'processing') AND job_type <> 'webhook_delivery'
GROUP BY tenant_id;

-- Nothing on PostgreSQL counts through migration 007's index any more.
DROP INDEX IF EXISTS jobs_in_flight;

INSERT INTO schema_migrations (version) VALUES ('008') ON CONFLICT (version) DO NOTHING;
COMMIT;
