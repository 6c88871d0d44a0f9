-- A result revision is one row, SQLite. Keep in step with ../postgres/0011_compact_results.sql,
-- which says why.
--
-- Differences from PostgreSQL: SQLite has no SHA-256, so the provenances of results stored
-- before this migration are keyed 'legacy-N' (N: a rowid of one result that had it); the
-- store keys every provenance it writes by its hex SHA-256, as on PostgreSQL. A real printed
-- with '%!.17g' reads back as the same double (SQLite's JSON keeps a number's text); printf
-- turns NULL into 0.0, hence the CASE.

CREATE TABLE provenances (
    id   TEXT NOT NULL PRIMARY KEY,                                -- hex SHA-256 of json
    json TEXT NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO provenances (id, json)
SELECT 'legacy-' || MIN(rowid), provenance_json FROM results GROUP BY provenance_json;

ALTER TABLE results ADD COLUMN provenance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';
ALTER TABLE results ADD COLUMN indicators TEXT NOT NULL DEFAULT '[]';

CREATE INDEX provenances_by_json ON provenances (json);
UPDATE results SET provenance_id = (
    SELECT p.id FROM provenances p WHERE p.json = results.provenance_json
);
DROP INDEX provenances_by_json;

UPDATE results SET
    domains = COALESCE((
        SELECT json_group_array(json_array(
            d.code,
            json(CASE WHEN d.score IS NOT NULL THEN printf('%!.17g', d.score) END),
            json(CASE WHEN d.se IS NOT NULL THEN printf('%!.17g', d.se) END),
            d.level, d.answered, d.needed
        ) ORDER BY d.position)
        FROM result_domains d
        WHERE d.session_id = results.session_id AND d.revision = results.revision
    ), '[]'),
    indicators = COALESCE((
        SELECT json_group_array(json_array(
            i.domain, i.code, json(CASE WHEN i.score IS NOT NULL THEN printf('%!.17g', i.score) END)
        ) ORDER BY i.domain, i.code)
        FROM result_indicators i
        WHERE i.session_id = results.session_id AND i.revision = results.revision
    ), '[]');

ALTER TABLE results DROP COLUMN provenance_json;
ALTER TABLE results DROP COLUMN result_json;

DROP TABLE result_indicators;
DROP TABLE result_domains;
