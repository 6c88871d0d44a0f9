-- Statistics rows in shards, PostgreSQL. Keep in step with ../sqlite/0009_stats_shards.sql.
--
-- Every submit adds to the rows of its unit and of each prefix above it, the national ""
-- prefix included: batches written at once (several per server) updated the same rows,
-- so each waited for the row locks of the other until it committed. Each row is now split
-- over `shard`s: a batch adds to the rows of its own shard (src/stats.rs, `Shard`), readers
-- sum over them. Rows kept so far become shard 0, where a rebuild also writes.

ALTER TABLE unit_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE unit_stats DROP CONSTRAINT unit_stats_pkey, ADD PRIMARY KEY
    (instrument_id, org_unit, instrument_version, kind, domain, indicator, level, shard);

ALTER TABLE unit_day_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE unit_day_stats DROP CONSTRAINT unit_day_stats_pkey, ADD PRIMARY KEY
    (instrument_id, org_unit, day, instrument_version, kind, domain, indicator, level, shard);

ALTER TABLE prefix_stats ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE prefix_stats DROP CONSTRAINT prefix_stats_pkey, ADD PRIMARY KEY
    (instrument_id, org_prefix, instrument_version, kind, domain, indicator, level, shard);

-- 0008's index included the counts (n, missing): every update of them then had to write a
-- new index entry, and none could be a HOT update (a new row version on the same page, no
-- index touched). The index now holds only the key: a reader fetches one row per unit.
DROP INDEX unit_stats_counts;
CREATE INDEX unit_stats_counts ON unit_stats (instrument_id, org_unit)
    WHERE kind = 'index' AND level = '';
