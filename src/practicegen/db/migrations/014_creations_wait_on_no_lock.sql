-- dialect: postgresql
-- Job creations that do not wait on one another to commit.
-- 1. pgqueuer's trigger sends no NOTIFY for a transaction that set `practicegen.queue_wakeup`
--    to `after_commit`: the job store's creations do, and wake the workers themselves once
--    they have committed (jobs/queue_wakeup.py). A NOTIFY takes one lock for the whole
--    database at its transaction's commit and holds it through the commit's flush, so every
--    creating transaction committed one after another. Every other write of the queue table
--    notifies as pgqueuer's installer has it.
-- 2. Each tenant's count of jobs in flight (migration 008) is spread over one row per server
--    process rather than 16 shared by the process ids' remainders: a transaction only ever adds
--    to its own process's row, and a process runs one transaction at a time, so no creation
--    waits on another's row lock. When a process first counts for a tenant, the rows of the
--    tenant's processes that have ended are folded into its own, so they do not pile up.
BEGIN;

DROP TRIGGER IF EXISTS tg_pgqueuer_changed ON pgqueuer;
CREATE TRIGGER tg_pgqueuer_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgqueuer
FOR EACH STATEMENT
WHEN (current_setting('practicegen.queue_wakeup', true) IS DISTINCT FROM 'after_commit')
EXECUTE FUNCTION fn_pgqueuer_changed();

ALTER TABLE job_counts ALTER COLUMN shard TYPE INTEGER;

CREATE OR REPLACE FUNCTION jobs_count_in_flight() RETURNS trigger LANGUAGE plpgsql AS $count$
DECLARE
    delta INTEGER := 0;
    tenant UUID := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN ('pending', 'processing')
            AND OLD.job_type <> 'webhook_delivery' THEN
        delta := -1;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN ('pending', 'processing')
            AND NEW.job_type <> 'webhook_delivery' THEN
        delta := delta + 1;
    END IF;
    IF delta = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE job_counts SET in_flight = in_flight + delta
    WHERE job_counts.tenant_id = tenant AND shard = pg_backend_pid();
    IF NOT FOUND THEN
        WITH ended AS (
            DELETE FROM job_counts
            WHERE job_counts.tenant_id = tenant AND shard <> pg_backend_pid()
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = job_counts.shard)
            RETURNING in_flight
        )
        INSERT INTO job_counts AS counted (tenant_id, shard, in_flight)
        SELECT tenant, pg_backend_pid(), delta + coalesce(sum(in_flight), 0) FROM ended
        ON CONFLICT (tenant_id, shard)
        DO UPDATE SET in_flight = counted.in_flight + EXCLUDED.in_flight;
    END IF;
    RETURN NULL;
END
$count$;

INSERT INTO schema_migrations (version) VALUES ('014') ON CONFLICT (version) DO NOTHING;
COMMIT;
