-- Each result revision keeps its session's submission time, SQLite. Keep in step with
-- ../postgres/0012_result_submitted_at.sql, where an export joins on it to read the two
-- tables side by side. SQLite's exports read pages through the sessions' index and look
-- each result up by key, so it keeps the column (the same writes on both stores) but no
-- index on it.

ALTER TABLE results ADD COLUMN submitted_at INTEGER;

UPDATE results SET submitted_at = (SELECT s.submitted_at FROM sessions s WHERE s.id = results.session_id);
