-- Per-unit sufficient statistics, PostgreSQL. Keep in step with ../sqlite/0008_unit_stats.sql.
--
-- Aggregates, unit counts and organisation reports read these instead of scanning results:
-- their cost grows with the number of organisation units, not of results. Each row holds,
-- for the results that count (the latest revision of each person's latest submitted
-- session, see 0005) of one unit and instrument version:
--   kind 'index' | 'domain' | 'indicator', level '': n = results with a value, missing =
--     results without one, sum and sum_sq of the values;
--   the same kinds with a level code: n = results at that level;
--   kind 'flagged': n = results with an answer-quality flag.
-- unit_day_stats holds the same per day of submission (UTC, submitted_at / 86400000), for
-- time windows (whole days: disclosure control cuts windows at UTC midnights); prefix_stats
-- the same per organisation prefix, each unit counted under every prefix that matches it
-- (itself included): an aggregate reads the rows of one prefix, however many units and
-- results are under it.
--
-- A submit adds its result in the transaction that stores it; a re-take that supersedes a
-- session, and a rescore, subtract what the old result added (src/stats.rs). The store
-- fills the tables from the stored results when it opens a database that has results but
-- no statistics (this migration's upgrade); `Store::check_stats` recomputes every row from
-- the results and compares.

-- Scores per indicator of each revision: each respondent's indicator score (0-100, the
-- weighted mean of their answered items' percentages of the item's range). NULL when no
-- item of the indicator was answered. Results stored before this migration have none.
CREATE TABLE result_indicators (
    session_id TEXT COLLATE "C" NOT NULL,
    revision   BIGINT           NOT NULL,
    domain     TEXT COLLATE "C" NOT NULL,
    code       TEXT COLLATE "C" NOT NULL,
    score      DOUBLE PRECISION,
    PRIMARY KEY (session_id, revision, domain, code),
    FOREIGN KEY (session_id, revision) REFERENCES results (session_id, revision)
);

CREATE TABLE unit_stats (
    instrument_id      TEXT COLLATE "C" NOT NULL,
    org_unit           TEXT COLLATE "C" NOT NULL,
    instrument_version TEXT COLLATE "C" NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT COLLATE "C" NOT NULL,
    indicator          TEXT COLLATE "C" NOT NULL,
    level              TEXT COLLATE "C" NOT NULL,
    n                  BIGINT           NOT NULL,
    missing            BIGINT           NOT NULL,
    sum                DOUBLE PRECISION NOT NULL,
    sum_sq             DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (instrument_id, org_unit, instrument_version, kind, domain, indicator, level)
);

CREATE TABLE unit_day_stats (
    instrument_id      TEXT COLLATE "C" NOT NULL,
    org_unit           TEXT COLLATE "C" NOT NULL,
    day                BIGINT           NOT NULL,
    instrument_version TEXT COLLATE "C" NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT COLLATE "C" NOT NULL,
    indicator          TEXT COLLATE "C" NOT NULL,
    level              TEXT COLLATE "C" NOT NULL,
    n                  BIGINT           NOT NULL,
    missing            BIGINT           NOT NULL,
    sum                DOUBLE PRECISION NOT NULL,
    sum_sq             DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (instrument_id, org_unit, day, instrument_version, kind, domain, indicator,
                 level)
);

CREATE TABLE prefix_stats (
    instrument_id      TEXT COLLATE "C" NOT NULL,
    org_prefix         TEXT COLLATE "C" NOT NULL,
    instrument_version TEXT COLLATE "C" NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT COLLATE "C" NOT NULL,
    indicator          TEXT COLLATE "C" NOT NULL,
    level              TEXT COLLATE "C" NOT NULL,
    n                  BIGINT           NOT NULL,
    missing            BIGINT           NOT NULL,
    sum                DOUBLE PRECISION NOT NULL,
    sum_sq             DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (instrument_id, org_prefix, instrument_version, kind, domain, indicator, level)
);

-- The result count of every unit (disclosure control reads them all at each aggregate):
-- queries repeat the literal condition so that the planner can use it.
CREATE INDEX unit_stats_counts ON unit_stats (instrument_id, org_unit)
    INCLUDE (n, missing) WHERE kind = 'index' AND level = '';
