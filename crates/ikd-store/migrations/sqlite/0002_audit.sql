-- Audit log of administrative actions (rescores, ...), SQLite. Keep in step with
-- ../postgres/0002_audit.sql. Append-only: the store has no update or delete API, and the
-- triggers below refuse both from anyone else too.

CREATE TABLE audit_log (
    id     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- order of recording
    at     INTEGER NOT NULL,                            -- Unix milliseconds
    actor  TEXT    NOT NULL,                            -- a token's name, never the token
    action TEXT    NOT NULL,                            -- e.g. rescore.started
    target TEXT    NOT NULL,                            -- e.g. ikd-asn-2025@1.0.0
    detail TEXT    NOT NULL                             -- JSON
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
