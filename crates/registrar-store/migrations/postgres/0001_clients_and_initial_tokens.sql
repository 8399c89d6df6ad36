-- Clients and initial access tokens.
-- Credentials are stored only as HMAC-SHA-256 hashes in lowercase hex; timestamps are seconds since the epoch.
-- Keep this file in step with migrations/sqlite: both backends run the same SQL in src/queries.rs.
-- Constraint names keep PostgreSQL's defaults, which src/error.rs reads to name a duplicate.

CREATE TABLE initial_access_tokens (
    id         TEXT   COLLATE "C" NOT NULL,
    token_hash TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL means the token does not expire.
    expires_at BIGINT,
    -- NULL means any number of uses.
    max_uses   BIGINT CHECK (max_uses >= 0),
    uses       BIGINT NOT NULL DEFAULT 0 CHECK (uses >= 0),
    note       TEXT,
    CONSTRAINT initial_access_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT initial_access_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE TABLE clients (
    -- "C" collation so that ties in `clients list` order as on SQLite.
    client_id           TEXT   COLLATE "C" NOT NULL,
    client_id_issued_at BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    -- Copied out of metadata for `registrar clients list`.
    client_name         TEXT,
    -- A JSON array of strings, copied out of metadata for `registrar clients list`.
    grant_types         TEXT   NOT NULL,
    -- The ClientMetadata as JSON text, byte for byte as SQLite keeps it.
    metadata            TEXT   NOT NULL,
    secret_hash         TEXT,
    -- 0 means never (RFC 7591 §3.2.1); NULL exactly when there is no secret.
    secret_expires_at   BIGINT,
    -- The current registration access token; NULL once revoked.
    rat_hash            TEXT,
    -- The token replaced by the last rotation, valid until rat_prev_expires_at.
    rat_prev_hash       TEXT,
    rat_prev_expires_at BIGINT,
    -- Provenance only: the initial access token may since have been revoked, so no foreign key.
    initial_token_id    TEXT,
    CONSTRAINT clients_pkey PRIMARY KEY (client_id),
    CONSTRAINT clients_rat_hash_key UNIQUE (rat_hash)
);

CREATE INDEX clients_rat_prev_hash ON clients (rat_prev_hash);
CREATE INDEX clients_issued ON clients (client_id_issued_at, client_id);
