-- Packed answers, PostgreSQL. Keep in step with ../sqlite/0010_packed_answers.sql.
--
-- `answers` (the latest value per item) and `answer_log` (every save's cells) kept a row per
-- item, each with its own index entries: most of a stored result's bytes, and some 120 rows
-- written per session. Both become one column of a row that every save already writes:
--
-- * sessions.answers: the latest answers, sorted by item id (byte order), packed; a save
--   reads it with the session's lock and writes it with the answers version, one update;
-- * save_requests.cells: the request's cells in request order, packed; a replay compares
--   them with the retried request's.
--
-- Packed (src/packed.rs): each cell `item TAB value`, cells joined by LF; in an item id or a
-- value, backslash, TAB and LF are written `\\`, `\t`, `\n`. The statements below produce
-- exactly the text the store writes (`replace` escapes backslashes first). answers.request_id
-- and answers.saved_at were never read: they go with the table; save_requests.saved_at stays.

ALTER TABLE sessions ADD COLUMN answers TEXT NOT NULL DEFAULT '';

UPDATE sessions SET answers = packed.answers
FROM (
    SELECT session_id,
           string_agg(replace(replace(replace(item_id, '\', '\\'), chr(9), '\t'), chr(10), '\n')
                      || chr(9)
                      || replace(replace(replace(value, '\', '\\'), chr(9), '\t'), chr(10), '\n'),
                      chr(10) ORDER BY item_id) AS answers
    FROM answers
    GROUP BY session_id
) AS packed
WHERE sessions.id = packed.session_id;

ALTER TABLE save_requests ADD COLUMN cells TEXT;

UPDATE save_requests SET cells = packed.cells
FROM (
    SELECT session_id, request_id,
           string_agg(replace(replace(replace(item_id, '\', '\\'), chr(9), '\t'), chr(10), '\n')
                      || chr(9)
                      || replace(replace(replace(value, '\', '\\'), chr(9), '\t'), chr(10), '\n'),
                      chr(10) ORDER BY position) AS cells
    FROM answer_log
    GROUP BY session_id, request_id
) AS packed
WHERE save_requests.session_id = packed.session_id
  AND save_requests.request_id = packed.request_id;

-- A save of no cells logged no row.
UPDATE save_requests SET cells = '' WHERE cells IS NULL;

ALTER TABLE save_requests ALTER COLUMN cells SET NOT NULL;

DROP TABLE answer_log;
DROP TABLE answers;
