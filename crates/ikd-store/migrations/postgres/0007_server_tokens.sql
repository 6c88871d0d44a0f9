-- Tokens a server generates for itself, PostgreSQL. Keep in step with
-- ../sqlite/0006_server_tokens.sql.
--
-- The first-run admin token: a server started with no token configured generates one and
-- keeps only its SHA-256 here, so that every replica on this database accepts the same token
-- (src/tokens.rs). The name is the primary key: of servers claiming it at once exactly one
-- inserts its hash (INSERT … ON CONFLICT DO NOTHING), the others read that one. To generate
-- a new first-run token, delete its row and restart the servers.

CREATE TABLE server_tokens (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,   -- e.g. first-run-admin
    sha256     TEXT COLLATE "C" NOT NULL CHECK (length(sha256) = 64),  -- hex; never the token
    created_at BIGINT           NOT NULL                -- Unix milliseconds
);
