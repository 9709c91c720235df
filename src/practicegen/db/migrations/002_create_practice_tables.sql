-- The item bank, assignments, graded responses and the learner model's per-skill state.
BEGIN;

CREATE TABLE IF NOT EXISTS items (
    id             UUID NOT NULL PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject        TEXT NOT NULL,
    topic          TEXT NOT NULL,
    skill          TEXT NOT NULL,
    type           TEXT NOT NULL
                   CHECK (type IN ('numeric', 'expression', 'equation', 'multiple_choice')),
    stem           TEXT NOT NULL,
    answer         TEXT NOT NULL,
    answer_policy  TEXT NOT NULL,
    tolerance      DOUBLE PRECISION,
    choices        JSONB NOT NULL DEFAULT '[]',
    hints          JSONB NOT NULL DEFAULT '[]',
    solution       TEXT,
    difficulty     DOUBLE PRECISION NOT NULL,
    responses_n    INTEGER NOT NULL DEFAULT 0,
    source         TEXT NOT NULL,
    provenance     JSONB NOT NULL DEFAULT '{}',
    fingerprint    TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- Selection reads the active items of one subject (and maybe topic) of one tenant.
CREATE INDEX IF NOT EXISTS items_selection ON items (tenant_id, subject, status, topic, skill);
CREATE INDEX IF NOT EXISTS items_tenant_created ON items (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS items_fingerprint ON items (tenant_id, fingerprint);

CREATE TABLE IF NOT EXISTS assignments (
    id               UUID NOT NULL PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    student_id       UUID NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL,
    topic            TEXT,
    num_items        INTEGER NOT NULL,
    goal_tags        JSONB NOT NULL DEFAULT '[]',
    warnings         JSONB NOT NULL DEFAULT '[]',
    bank_count       INTEGER NOT NULL,
    generated_count  INTEGER NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS assignments_student ON assignments (tenant_id, student_id, created_at);

CREATE TABLE IF NOT EXISTS assignment_items (
    assignment_id      UUID NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    item_id            UUID NOT NULL REFERENCES items (id),
    skill              TEXT NOT NULL,
    predicted_success  DOUBLE PRECISION NOT NULL,
    reason             TEXT NOT NULL,
    PRIMARY KEY (assignment_id, position)
);

CREATE TABLE IF NOT EXISTS responses (
    id             UUID NOT NULL PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    assignment_id  UUID NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    item_id        UUID NOT NULL REFERENCES items (id),
    student_id     UUID NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    answer         TEXT NOT NULL,
    correct        BOOLEAN NOT NULL,
    feedback_code  TEXT NOT NULL,
    predicted      DOUBLE PRECISION NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS responses_assignment ON responses (assignment_id, position);

CREATE TABLE IF NOT EXISTS learner_skills (
    student_id  UUID NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    skill       TEXT NOT NULL,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    theta       DOUBLE PRECISION NOT NULL,
    responses_n INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (student_id, skill)
);

INSERT INTO schema_migrations (version) VALUES ('002') ON CONFLICT (version) DO NOTHING;
COMMIT;
