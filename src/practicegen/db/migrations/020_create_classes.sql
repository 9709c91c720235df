-- Classes, and an index for spaced review.
-- Classes: a teacher's named group of students, assigned and reported on together. A student
-- may be in several classes; removing one from a class leaves the student and their work.
-- (Numbered 020 so that schema changes made meanwhile can take the numbers before it.)
BEGIN;

CREATE TABLE IF NOT EXISTS classes (
    id          UUID NOT NULL PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS classes_tenant_created ON classes (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS class_members (
    class_id    UUID NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    student_id  UUID NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (class_id, student_id)
);
CREATE INDEX IF NOT EXISTS class_members_student ON class_members (student_id);

-- A student's answers by item: what spaced review reads at every assignment.
CREATE INDEX IF NOT EXISTS responses_student_item ON responses (student_id, item_id, created_at);

INSERT INTO schema_migrations (version) VALUES ('020') ON CONFLICT (version) DO NOTHING;
COMMIT;
