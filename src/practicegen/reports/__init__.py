"""Where students stand: per-skill mastery, a class's students by skills, a student's
assignments with their scores. Read-only views over the learner model and practice rows."""
