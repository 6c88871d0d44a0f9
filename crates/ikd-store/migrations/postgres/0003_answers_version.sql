-- Answers version, PostgreSQL. Keep in step with ../sqlite/0003_answers_version.sql.
-- Every applied (not replayed) save adds 1 in its own transaction; a submit stores its
-- result only if the version is still the one of the answers it scored, so an acknowledged
-- save can never be left out of the submitted result.

ALTER TABLE sessions ADD COLUMN answers_version BIGINT NOT NULL DEFAULT 0;
