-- Re-takes, PostgreSQL. Keep in step with ../sqlite/0005_retakes.sql.
--
-- One person (respondent_key) may submit several sessions of one instrument version. Only
-- their latest submitted one counts in result pages, aggregates and unit counts: the one
-- with the greatest (submitted_at, id). Otherwise a person who re-takes the instrument
-- would weigh two or three times in their unit's mean. The earlier sessions stay stored
-- and readable; superseded_by names a later submitted session of the same person, the one
-- that took over from it. Only sessions with superseded_by NULL count.
--
-- A submit keeps this up to date in its own transaction, under a lock on the person
-- (src/results.rs, src/postgres.rs); the UPDATE below does it once for the sessions stored
-- before this migration. It depends on no other migration after 0003: sqlx applies a
-- migration numbered lower than this one after it on a database that already has this one.

ALTER TABLE sessions ADD COLUMN superseded_by TEXT COLLATE "C" REFERENCES sessions (id);

ALTER TABLE sessions ADD CONSTRAINT sessions_superseded_by_check
    CHECK (superseded_by IS NULL OR (state = 'submitted' AND superseded_by <> id));

-- A person's submitted sessions of one instrument version, in time order: finds the latest
-- and the one still counting with one index range, at every submit.
CREATE INDEX sessions_respondent
    ON sessions (respondent_key, instrument_id, instrument_version, submitted_at, id)
    WHERE state = 'submitted';

UPDATE sessions SET superseded_by = ranked.latest_id
FROM (
    SELECT s.id AS session_id,
           FIRST_VALUE(s.id) OVER (
               PARTITION BY s.respondent_key, s.instrument_id, s.instrument_version
               ORDER BY s.submitted_at DESC, s.id DESC
           ) AS latest_id
    FROM sessions s
    WHERE s.state = 'submitted'
) AS ranked
WHERE sessions.id = ranked.session_id AND ranked.latest_id <> sessions.id;
