-- Audit log of administrative actions (rescores, ...), PostgreSQL. Keep in step with
-- ../sqlite/0002_audit.sql. Append-only: the store has no update or delete API, and the
-- trigger below refuses both (and TRUNCATE) from anyone else too.

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- order of recording
    at     BIGINT           NOT NULL,                        -- Unix milliseconds
    actor  TEXT COLLATE "C" NOT NULL,                        -- a token's name, never the token
    action TEXT COLLATE "C" NOT NULL,                        -- e.g. rescore.started
    target TEXT COLLATE "C" NOT NULL,                        -- e.g. ikd-asn-2025@1.0.0
    detail TEXT             NOT NULL                         -- JSON
);

CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
