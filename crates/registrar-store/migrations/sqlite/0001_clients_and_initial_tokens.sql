-- Clients and initial access tokens.
-- Credentials are stored only as HMAC-SHA-256 hashes in lowercase hex; timestamps are seconds since the epoch.
-- Keep this file in step with migrations/postgres: both backends run the same SQL in src/queries.rs.

CREATE TABLE initial_access_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    -- NULL means the token does not expire.
    expires_at INTEGER,
    -- NULL means any number of uses.
    max_uses   INTEGER CHECK (max_uses >= 0),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    note       TEXT
) STRICT;

CREATE TABLE clients (
    client_id           TEXT    NOT NULL PRIMARY KEY,
    client_id_issued_at INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    -- Copied out of metadata for `registrar clients list`.
    client_name         TEXT,
    -- A JSON array of strings, copied out of metadata for `registrar clients list`.
    grant_types         TEXT    NOT NULL,
    -- The ClientMetadata as JSON: the source of truth for every registered value.
    metadata            TEXT    NOT NULL,
    secret_hash         TEXT,
    -- 0 means never (RFC 7591 §3.2.1); NULL exactly when there is no secret.
    secret_expires_at   INTEGER,
    -- The current registration access token; NULL once revoked.
    rat_hash            TEXT    UNIQUE,
    -- The token replaced by the last rotation, valid until rat_prev_expires_at.
    rat_prev_hash       TEXT,
    rat_prev_expires_at INTEGER,
    -- Provenance only: the initial access token may since have been revoked, so no foreign key.
    initial_token_id    TEXT
) STRICT;

CREATE INDEX clients_rat_prev_hash ON clients (rat_prev_hash);
CREATE INDEX clients_issued ON clients (client_id_issued_at, client_id);
