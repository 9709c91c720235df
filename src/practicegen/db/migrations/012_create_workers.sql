-- The job workers that are running: each `practicegen worker` (and each `serve` that runs jobs
-- itself) adds its row when it starts taking jobs, stamps `last_seen` with the database's
-- clock while it runs, and deletes its row when it stops cleanly. A worker killed outright
-- leaves its row behind, and it goes stale: API nodes tell from `last_seen` whether anything
-- will run the jobs they create. `lanes` maps each queue entrypoint the worker consumes to the
-- concurrency it runs it at.
BEGIN;

CREATE TABLE IF NOT EXISTS workers (
    id           UUID NOT NULL PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT NOT NULL,
    concurrency  INTEGER NOT NULL,
    lanes        JSONB NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL
);

INSERT INTO schema_migrations (version) VALUES ('012') ON CONFLICT (version) DO NOTHING;
COMMIT;
