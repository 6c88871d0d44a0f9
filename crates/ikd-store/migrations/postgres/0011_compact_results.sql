-- A result revision is one row, PostgreSQL. Keep in step with ../sqlite/0011_compact_results.sql.
--
-- At national scale (millions of results) a result cost about 29 KB here: besides its own
-- row, five result_domains rows and one result_indicators row per indicator, each with its
-- index entries, a ~1 KB provenance JSON that every result of one scoring run repeats, and
-- result_json, an archive of exactly what the other columns hold. Now:
--   * results.domains: the domains as a JSON array, in result order, each
--     [code, score, se, level, answered, needed] (score, se, level, needed may be null);
--   * results.indicators: the indicator scores as a JSON array of [domain, code, score]
--     ('[]' when none were kept);
--   * results.provenance_id: the provenance, kept once in `provenances`, keyed by the hex
--     SHA-256 of its JSON (the store computes it when it writes one);
--   * result_json is gone: every field it held is a column.
-- Nothing reads a domain or an indicator by itself: aggregates and reports read the
-- statistics tables (0008); check_stats and rebuilds unnest the arrays in SQL.
-- Numbers keep every bit: PostgreSQL prints float8 in its shortest exact form.

CREATE TABLE provenances (
    id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,                    -- hex SHA-256 of json
    json TEXT             NOT NULL
);

INSERT INTO provenances (id, json)
SELECT encode(sha256(convert_to(provenance_json, 'UTF8')), 'hex'), provenance_json
FROM results GROUP BY provenance_json;

ALTER TABLE results
    ADD COLUMN provenance_id TEXT COLLATE "C",
    ADD COLUMN domains       TEXT NOT NULL DEFAULT '[]',
    ADD COLUMN indicators    TEXT NOT NULL DEFAULT '[]';

UPDATE results r SET
    provenance_id = encode(sha256(convert_to(r.provenance_json, 'UTF8')), 'hex'),
    domains = COALESCE((
        SELECT json_agg(json_build_array(d.code, d.score, d.se, d.level, d.answered, d.needed)
                        ORDER BY d.position)::text
        FROM result_domains d WHERE d.session_id = r.session_id AND d.revision = r.revision
    ), '[]'),
    indicators = COALESCE((
        SELECT json_agg(json_build_array(i.domain, i.code, i.score) ORDER BY i.domain, i.code)::text
        FROM result_indicators i WHERE i.session_id = r.session_id AND i.revision = r.revision
    ), '[]');

ALTER TABLE results
    ALTER COLUMN provenance_id SET NOT NULL,
    ALTER COLUMN domains DROP DEFAULT,
    ALTER COLUMN indicators DROP DEFAULT,
    DROP COLUMN provenance_json,
    DROP COLUMN result_json;

DROP TABLE result_indicators;
DROP TABLE result_domains;
