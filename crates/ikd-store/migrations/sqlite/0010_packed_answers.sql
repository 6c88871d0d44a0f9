-- Packed answers, SQLite. Keep in step with ../postgres/0010_packed_answers.sql.
--
-- `answers` (the latest value per item) and `answer_log` (every save's cells) kept a row per
-- item, each with its own index entries: most of a stored result's bytes, and some 120 rows
-- written per session. Both become one column of a row that every save already writes:
--
-- * sessions.answers: the latest answers, sorted by item id (byte order), packed; a save
--   reads it with the session and writes it with the answers version, one update;
-- * save_requests.cells: the request's cells in request order, packed; a replay compares
--   them with the retried request's.
--
-- Packed (src/packed.rs): each cell `item TAB value`, cells joined by LF; in an item id or a
-- value, backslash, TAB and LF are written `\\`, `\t`, `\n`. The statements below produce
-- exactly the text the store writes (`replace` escapes backslashes first). answers.request_id
-- and answers.saved_at were never read: they go with the table; save_requests.saved_at stays.
--
-- save_requests is rebuilt with its new column (ADD COLUMN would need a default, and every
-- request has its cells).

ALTER TABLE sessions ADD COLUMN answers TEXT NOT NULL DEFAULT '';

UPDATE sessions SET answers = (
    SELECT group_concat(
               replace(replace(replace(a.item_id, '\', '\\'), char(9), '\t'), char(10), '\n')
               || char(9)
               || replace(replace(replace(a.value, '\', '\\'), char(9), '\t'), char(10), '\n'),
               char(10) ORDER BY a.item_id)
    FROM answers a WHERE a.session_id = sessions.id
)
WHERE id IN (SELECT session_id FROM answers);

CREATE TABLE save_requests_0010 (
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    request_id TEXT    NOT NULL,
    saved_at   INTEGER NOT NULL,
    answers    INTEGER NOT NULL,                       -- cells in the request
    cells      TEXT    NOT NULL,                       -- the cells, packed
    PRIMARY KEY (session_id, request_id)
) STRICT, WITHOUT ROWID;

INSERT INTO save_requests_0010 (session_id, request_id, saved_at, answers, cells)
SELECT r.session_id, r.request_id, r.saved_at, r.answers, coalesce((
    SELECT group_concat(
               replace(replace(replace(l.item_id, '\', '\\'), char(9), '\t'), char(10), '\n')
               || char(9)
               || replace(replace(replace(l.value, '\', '\\'), char(9), '\t'), char(10), '\n'),
               char(10) ORDER BY l.position)
    FROM answer_log l WHERE l.session_id = r.session_id AND l.request_id = r.request_id
), '')
FROM save_requests r;

DROP TABLE answer_log;
DROP TABLE answers;
DROP TABLE save_requests;
ALTER TABLE save_requests_0010 RENAME TO save_requests;
