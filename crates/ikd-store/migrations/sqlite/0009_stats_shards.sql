-- Statistics rows in shards, SQLite. Keep in step with ../postgres/0009_stats_shards.sql.
--
-- Every submit adds to the rows of its unit and of each prefix above it, the national ""
-- prefix included: batches written at once (PostgreSQL runs several) would all update the
-- same rows and wait for each other's commit. Each row is now split over `shard`s: a batch
-- adds to the rows of its own shard (src/stats.rs, `Shard`), readers sum over them. Rows
-- kept so far become shard 0, where a rebuild also writes.
--
-- SQLite has a single writer and only ever writes shard 0; its tables are rebuilt (the
-- primary key changes) as WITHOUT ROWID: a row is then found and updated in one B-tree
-- instead of the key's index and the table.

CREATE TABLE unit_stats_0009 (
    instrument_id      TEXT NOT NULL,
    org_unit           TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    kind               TEXT NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT NOT NULL,
    indicator          TEXT NOT NULL,
    level              TEXT NOT NULL,
    shard              INTEGER NOT NULL DEFAULT 0,
    n                  INTEGER NOT NULL,
    missing            INTEGER NOT NULL,
    sum                REAL    NOT NULL,
    sum_sq             REAL    NOT NULL,
    PRIMARY KEY (instrument_id, org_unit, instrument_version, kind, domain, indicator, level,
                 shard)
) STRICT, WITHOUT ROWID;
INSERT INTO unit_stats_0009 (instrument_id, org_unit, instrument_version, kind, domain,
    indicator, level, n, missing, sum, sum_sq)
SELECT instrument_id, org_unit, instrument_version, kind, domain, indicator, level, n,
    missing, sum, sum_sq FROM unit_stats;
DROP TABLE unit_stats;
ALTER TABLE unit_stats_0009 RENAME TO unit_stats;

CREATE TABLE unit_day_stats_0009 (
    instrument_id      TEXT NOT NULL,
    org_unit           TEXT NOT NULL,
    day                INTEGER NOT NULL,
    instrument_version TEXT NOT NULL,
    kind               TEXT NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT NOT NULL,
    indicator          TEXT NOT NULL,
    level              TEXT NOT NULL,
    shard              INTEGER NOT NULL DEFAULT 0,
    n                  INTEGER NOT NULL,
    missing            INTEGER NOT NULL,
    sum                REAL    NOT NULL,
    sum_sq             REAL    NOT NULL,
    PRIMARY KEY (instrument_id, org_unit, day, instrument_version, kind, domain, indicator,
                 level, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO unit_day_stats_0009 (instrument_id, org_unit, day, instrument_version, kind,
    domain, indicator, level, n, missing, sum, sum_sq)
SELECT instrument_id, org_unit, day, instrument_version, kind, domain, indicator, level, n,
    missing, sum, sum_sq FROM unit_day_stats;
DROP TABLE unit_day_stats;
ALTER TABLE unit_day_stats_0009 RENAME TO unit_day_stats;

CREATE TABLE prefix_stats_0009 (
    instrument_id      TEXT NOT NULL,
    org_prefix         TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    kind               TEXT NOT NULL
        CHECK (kind IN ('index', 'domain', 'indicator', 'flagged')),
    domain             TEXT NOT NULL,
    indicator          TEXT NOT NULL,
    level              TEXT NOT NULL,
    shard              INTEGER NOT NULL DEFAULT 0,
    n                  INTEGER NOT NULL,
    missing            INTEGER NOT NULL,
    sum                REAL    NOT NULL,
    sum_sq             REAL    NOT NULL,
    PRIMARY KEY (instrument_id, org_prefix, instrument_version, kind, domain, indicator, level,
                 shard)
) STRICT, WITHOUT ROWID;
INSERT INTO prefix_stats_0009 (instrument_id, org_prefix, instrument_version, kind, domain,
    indicator, level, n, missing, sum, sum_sq)
SELECT instrument_id, org_prefix, instrument_version, kind, domain, indicator, level, n,
    missing, sum, sum_sq FROM prefix_stats;
DROP TABLE prefix_stats;
ALTER TABLE prefix_stats_0009 RENAME TO prefix_stats;

-- As in 0008 (dropped with the table).
CREATE INDEX unit_stats_counts ON unit_stats (instrument_id, org_unit)
    WHERE kind = 'index' AND level = '';
