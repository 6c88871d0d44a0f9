-- IKD store schema, SQLite. Keep in step with ../postgres/0001_init.sql.
-- Nothing a rescore needs is updated in place: answer_log keeps every save's raw values,
-- results keeps every revision. sessions.latest_revision only points at the newest one.

CREATE TABLE sessions (
    id                 TEXT    NOT NULL PRIMARY KEY,   -- UUID v4
    instrument_id      TEXT    NOT NULL,
    instrument_version TEXT    NOT NULL,
    instrument_sha256  TEXT    NOT NULL,
    respondent_key     TEXT    NOT NULL,               -- HMAC pseudonym
    org_unit           TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('open', 'submitted')),
    created_at         INTEGER NOT NULL,               -- Unix milliseconds
    submitted_at       INTEGER,                        -- = results.created_at of revision 1
    latest_revision    INTEGER,
    CHECK ((state = 'open') = (submitted_at IS NULL)),
    CHECK ((state = 'open') = (latest_revision IS NULL))
) STRICT;

-- Partial indexes over submitted sessions: reports, aggregates and rescoring read only those.
-- Queries repeat the literal `state = 'submitted'` so that the planner can use them.
CREATE INDEX sessions_org_unit ON sessions (org_unit) WHERE state = 'submitted';
CREATE INDEX sessions_submitted ON sessions (submitted_at, id) WHERE state = 'submitted';
CREATE INDEX sessions_instrument ON sessions (instrument_id, instrument_version, id)
    WHERE state = 'submitted';

-- One row per applied save request: the idempotency key.
CREATE TABLE save_requests (
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    request_id TEXT    NOT NULL,
    saved_at   INTEGER NOT NULL,
    answers    INTEGER NOT NULL,                       -- cells in the request
    PRIMARY KEY (session_id, request_id)
) STRICT, WITHOUT ROWID;

-- Every save's raw cells, in request order. Append-only.
CREATE TABLE answer_log (
    session_id TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    item_id    TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (session_id, request_id, position),
    FOREIGN KEY (session_id, request_id) REFERENCES save_requests (session_id, request_id)
) STRICT, WITHOUT ROWID;

-- The latest value per item (what scoring reads).
CREATE TABLE answers (
    session_id TEXT    NOT NULL REFERENCES sessions (id),
    item_id    TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    saved_at   INTEGER NOT NULL,
    PRIMARY KEY (session_id, item_id)
) STRICT, WITHOUT ROWID;

-- Every result revision: 1 = the submit, 2.. = rescores.
CREATE TABLE results (
    session_id      TEXT    NOT NULL REFERENCES sessions (id),
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    created_at      INTEGER NOT NULL,
    model           TEXT    NOT NULL,
    model_version   TEXT    NOT NULL,
    index_value     REAL,
    index_se        REAL,
    level           TEXT,
    flags           TEXT    NOT NULL,                  -- JSON array of strings
    provenance_json TEXT    NOT NULL,
    result_json     TEXT    NOT NULL,
    PRIMARY KEY (session_id, revision)
) STRICT;

-- Domain scores of each revision, one row per domain, so aggregates are GROUP BYs.
CREATE TABLE result_domains (
    session_id TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    position   INTEGER NOT NULL,                       -- order in the result
    code       TEXT    NOT NULL,
    score      REAL,
    se         REAL,
    level      TEXT,
    answered   INTEGER NOT NULL,
    PRIMARY KEY (session_id, revision, position),
    UNIQUE (session_id, revision, code),
    FOREIGN KEY (session_id, revision) REFERENCES results (session_id, revision)
) STRICT, WITHOUT ROWID;
