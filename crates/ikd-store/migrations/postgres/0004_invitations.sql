-- Invitations, PostgreSQL. Keep in step with ../sqlite/0004_invitations.sql.
-- One row per link sent to one respondent. The link's token is never stored, only its
-- SHA-256; `id` is a second, non-secret handle that administrators use to revoke it. The
-- respondent is a pseudonym, as in sessions. The session is bound at the first visit.

CREATE TABLE invitations (
    id                 TEXT   NOT NULL PRIMARY KEY,
    token_sha256       TEXT   NOT NULL UNIQUE,
    instrument_id      TEXT   NOT NULL,
    instrument_version TEXT   NOT NULL,
    respondent_key     TEXT   NOT NULL,
    org_unit           TEXT   COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    revoked_at         BIGINT,
    session_id         TEXT   REFERENCES sessions (id)
);

CREATE INDEX invitations_respondent ON invitations (respondent_key, instrument_id);
