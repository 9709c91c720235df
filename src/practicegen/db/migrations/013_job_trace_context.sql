-- The W3C trace context (`traceparent`) of the span that created a job, so that each attempt,
-- on whichever worker, continues the trace of the request that asked for it. Empty when the
-- creating node had tracing off. A nullable column without a default: old nodes, which do not
-- name it, go on inserting and reading jobs while a release rolls out.
BEGIN;

ALTER TABLE jobs ADD COLUMN IF NOT EXISTS traceparent TEXT;

INSERT INTO schema_migrations (version) VALUES ('013') ON CONFLICT (version) DO NOTHING;
COMMIT;
