-- Token endpoint state: recoverable client secrets, signing keys and the client assertion replay cache.
-- Keep this file in step with migrations/sqlite: both backends run the same SQL in src/queries.rs.
-- Constraint names keep PostgreSQL's defaults, which src/error.rs reads to name a duplicate.

-- The client secret sealed by token::SecretCipher (the client id as associated data), only for client_secret_jwt.
-- NULL for every other method, and always NULL when secret_hash is.
ALTER TABLE clients ADD COLUMN secret_ciphertext TEXT;

CREATE TABLE signing_keys (
    -- The RFC 7638 thumbprint of the public key; "C" collation so that keys order as on SQLite.
    kid                   TEXT   COLLATE "C" NOT NULL,
    -- The JWA name: ES256, RS256 or EdDSA.
    algorithm             TEXT   NOT NULL,
    -- The PKCS#8 private key sealed by token::SecretCipher, whose key is not in the database.
    encrypted_private_key TEXT   NOT NULL,
    -- The public JWK as JSON text, byte for byte as SQLite keeps it.
    public_jwk            TEXT   NOT NULL,
    created_at            BIGINT NOT NULL,
    -- NULL while the key signs.
    retired_at            BIGINT,
    CONSTRAINT signing_keys_pkey PRIMARY KEY (kid)
);

-- The jti of every accepted client assertion, until it can no longer be accepted (RFC 7523 §3 item 7).
-- No foreign key to clients: rows are purged once expired, whether or not their client still exists.
CREATE TABLE assertion_jtis (
    client_id  TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    -- The last second the assertion could be accepted.
    expires_at BIGINT NOT NULL,
    CONSTRAINT assertion_jtis_pkey PRIMARY KEY (client_id, jti)
);

CREATE INDEX assertion_jtis_expires ON assertion_jtis (expires_at);
