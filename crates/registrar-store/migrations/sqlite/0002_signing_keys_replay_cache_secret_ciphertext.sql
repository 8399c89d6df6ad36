-- Token endpoint state: recoverable client secrets, signing keys and the client assertion replay cache.
-- Keep this file in step with migrations/postgres: both backends run the same SQL in src/queries.rs.

-- The client secret sealed by token::SecretCipher (the client id as associated data), only for client_secret_jwt.
-- NULL for every other method, and always NULL when secret_hash is.
ALTER TABLE clients ADD COLUMN secret_ciphertext TEXT;

CREATE TABLE signing_keys (
    -- The RFC 7638 thumbprint of the public key.
    kid                   TEXT    NOT NULL PRIMARY KEY,
    -- The JWA name: ES256, RS256 or EdDSA.
    algorithm             TEXT    NOT NULL,
    -- The PKCS#8 private key sealed by token::SecretCipher, whose key is not in the database.
    encrypted_private_key TEXT    NOT NULL,
    -- The public JWK as JSON text.
    public_jwk            TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    -- NULL while the key signs.
    retired_at            INTEGER
) STRICT;

-- The jti of every accepted client assertion, until it can no longer be accepted (RFC 7523 §3 item 7).
-- No foreign key to clients: rows are purged once expired, whether or not their client still exists.
CREATE TABLE assertion_jtis (
    client_id  TEXT    NOT NULL,
    jti        TEXT    NOT NULL,
    -- The last second the assertion could be accepted.
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT, WITHOUT ROWID;

CREATE INDEX assertion_jtis_expires ON assertion_jtis (expires_at);
