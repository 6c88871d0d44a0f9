-- IKD store schema, PostgreSQL. Keep in step with ../sqlite/0001_init.sql.
-- Nothing a rescore needs is updated in place: answer_log keeps every save's raw values,
-- results keeps every revision. sessions.latest_revision only points at the newest one.
--
-- Text keys are COLLATE "C" (byte order) whatever the database's collation: the org-unit
-- prefix rule is a byte range ('.', '/', '0' are consecutive bytes), keyset pagination and
-- sorting must agree with SQLite, and C comparisons are the cheapest.

CREATE TABLE sessions (
    id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,   -- UUID v4
    instrument_id      TEXT COLLATE "C" NOT NULL,
    instrument_version TEXT COLLATE "C" NOT NULL,
    instrument_sha256  TEXT             NOT NULL,
    respondent_key     TEXT COLLATE "C" NOT NULL,               -- HMAC pseudonym
    org_unit           TEXT COLLATE "C" NOT NULL,
    state              TEXT             NOT NULL CHECK (state IN ('open', 'submitted')),
    created_at         BIGINT           NOT NULL,               -- Unix milliseconds
    submitted_at       BIGINT,                                  -- = results.created_at of revision 1
    latest_revision    BIGINT,
    CHECK ((state = 'open') = (submitted_at IS NULL)),
    CHECK ((state = 'open') = (latest_revision IS NULL))
);

-- Partial indexes over submitted sessions: reports, aggregates and rescoring read only those.
-- Queries repeat the literal `state = 'submitted'` so that the planner can use them.
CREATE INDEX sessions_org_unit ON sessions (org_unit) WHERE state = 'submitted';
CREATE INDEX sessions_submitted ON sessions (submitted_at, id) WHERE state = 'submitted';
CREATE INDEX sessions_instrument ON sessions (instrument_id, instrument_version, id)
    WHERE state = 'submitted';

-- One row per applied save request: the idempotency key.
CREATE TABLE save_requests (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    request_id TEXT COLLATE "C" NOT NULL,
    saved_at   BIGINT           NOT NULL,
    answers    BIGINT           NOT NULL,                       -- cells in the request
    PRIMARY KEY (session_id, request_id)
);

-- Every save's raw cells, in request order. Append-only.
CREATE TABLE answer_log (
    session_id TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    position   BIGINT           NOT NULL,
    item_id    TEXT COLLATE "C" NOT NULL,
    value      TEXT             NOT NULL,
    PRIMARY KEY (session_id, request_id, position),
    FOREIGN KEY (session_id, request_id) REFERENCES save_requests (session_id, request_id)
);

-- The latest value per item (what scoring reads).
CREATE TABLE answers (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    item_id    TEXT COLLATE "C" NOT NULL,
    value      TEXT             NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    saved_at   BIGINT           NOT NULL,
    PRIMARY KEY (session_id, item_id)
);

-- Every result revision: 1 = the submit, 2.. = rescores.
CREATE TABLE results (
    session_id      TEXT COLLATE "C" NOT NULL REFERENCES sessions (id),
    revision        BIGINT           NOT NULL CHECK (revision >= 1),
    created_at      BIGINT           NOT NULL,
    model           TEXT             NOT NULL,
    model_version   TEXT             NOT NULL,
    index_value     DOUBLE PRECISION,
    index_se        DOUBLE PRECISION,
    level           TEXT COLLATE "C",
    flags           TEXT             NOT NULL,                  -- JSON array of strings
    provenance_json TEXT             NOT NULL,
    result_json     TEXT             NOT NULL,
    PRIMARY KEY (session_id, revision)
);

-- Domain scores of each revision, one row per domain, so aggregates are GROUP BYs.
CREATE TABLE result_domains (
    session_id TEXT COLLATE "C" NOT NULL,
    revision   BIGINT           NOT NULL,
    position   BIGINT           NOT NULL,                       -- order in the result
    code       TEXT COLLATE "C" NOT NULL,
    score      DOUBLE PRECISION,
    se         DOUBLE PRECISION,
    level      TEXT COLLATE "C",
    answered   BIGINT           NOT NULL,
    PRIMARY KEY (session_id, revision, position),
    UNIQUE (session_id, revision, code),
    FOREIGN KEY (session_id, revision) REFERENCES results (session_id, revision)
);
