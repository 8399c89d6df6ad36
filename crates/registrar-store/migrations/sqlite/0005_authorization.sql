-- The authorization code flow: end users, login sessions, remembered consent, grants with their codes and refresh tokens, and revoked access tokens.
-- Codes, refresh tokens and session ids are stored only as HMAC-SHA-256 hashes in lowercase hex, passwords only as argon2id PHC strings.
-- Scopes and resources are JSON arrays of strings, flags are 0 or 1, timestamps are seconds since the epoch.
-- No foreign keys to clients or users: either may live in a store of its own (Stores::with_clients, a host's UserAuthenticator),
-- so the store deletes the rows that depend on a client, a user or a grant itself, in the transaction that deletes it (src/queries/authorization.rs).
-- Keep this file in step with migrations/postgres: both backends run the same SQL in src/queries.rs.

CREATE TABLE users (
    -- The subject identifier (`sub`), issued once.
    id             TEXT    NOT NULL PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    -- The argon2id PHC string.
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    name           TEXT,
    email          TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
    -- The hash of the session cookie's value.
    id_hash    TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE consents (
    user_id    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    resources  TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    -- NULL means the consent is never asked again.
    expires_at INTEGER,
    PRIMARY KEY (user_id, client_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX consents_client ON consents (client_id);

CREATE TABLE grants (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,
    resources  TEXT    NOT NULL,
    auth_time  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    -- The absolute refresh token lifetime; NULL when the grant issues no refresh token.
    expires_at INTEGER,
    revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX grants_client ON grants (client_id);
CREATE INDEX grants_user ON grants (user_id);
CREATE INDEX grants_expires ON grants (expires_at);
-- Revoked grants wait only for the next purge.
CREATE INDEX grants_revoked ON grants (id) WHERE revoked = 1;

CREATE TABLE authorization_codes (
    code_hash      TEXT    NOT NULL PRIMARY KEY,
    grant_id       TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    -- Exactly as the authorization request sent it (RFC 6749 §4.1.3).
    redirect_uri   TEXT    NOT NULL,
    -- The PKCE S256 code_challenge (RFC 7636 §4.2).
    code_challenge TEXT    NOT NULL,
    nonce          TEXT,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    -- Set by the one redemption; a used code is kept until it expires, so a replay is seen as one.
    used           INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX authorization_codes_grant ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set by the one rotation; a rotated token is kept until its grant is revoked or it expires, so a replay is seen as reuse.
    used       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- RFC 7009: the jti of each revoked access token, until the token expires anyway.
CREATE TABLE revoked_access_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_access_tokens_expires ON revoked_access_tokens (expires_at);
