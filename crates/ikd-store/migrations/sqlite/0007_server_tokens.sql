-- Tokens a server generates for itself, SQLite. Keep in step with
-- ../postgres/0006_server_tokens.sql.
--
-- Created on SQLite too so that both schemas stay alike; `ikd serve` on SQLite keeps its
-- first-run admin token hash in its data directory as before (one server per file), so this
-- table stays empty there.

CREATE TABLE server_tokens (
    name       TEXT    NOT NULL PRIMARY KEY,             -- e.g. first-run-admin
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),  -- hex; never the token
    created_at INTEGER NOT NULL                          -- Unix milliseconds
) STRICT;
