-- Registrations made with an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), kept for
-- registration.idempotency_window so that a retry is answered with the client it registered.
-- Inserted in the client's transaction: the primary key decides between concurrent requests.
-- No foreign key to clients: a deleted client's record stays until it expires, so that a retry is
-- told the client is gone rather than registering another one.
CREATE TABLE idempotency_keys (
    -- Keyed hash (HMAC-SHA-256, hex) of the caller's credential and the key; never the key.
    key_hash        TEXT    NOT NULL,
    -- Keyed hash of the canonical request body a retry must repeat.
    request_hash    TEXT    NOT NULL,
    client_id       TEXT    NOT NULL,
    -- The 201 body, sealed by SecretCipher under key_hash: it holds the client's credentials.
    sealed_response TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (key_hash)
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
