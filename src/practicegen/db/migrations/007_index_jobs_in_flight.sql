-- The jobs a tenant has in flight, which every job creation counts against its limit: an index
-- of just those rows, so the count reads neither finished jobs nor other tenants' (the
-- predicate is jobs/repository.py's IN_FLIGHT_PREDICATE; the count stops at the limit).
BEGIN;

CREATE INDEX IF NOT EXISTS jobs_in_flight ON jobs (tenant_id)
    WHERE status IN ('pending', 'processing') AND job_type <> 'webhook_delivery';

INSERT INTO schema_migrations (version) VALUES ('007') ON CONFLICT (version) DO NOTHING;
COMMIT;
