-- Audit events: every create, update and delete of a client (written in the change's own transaction) and every refusal of a registration or management request.
-- Refusals are bounded: recording one drops the oldest beyond audit.max_refusals (src/queries/audit.rs), so a flood of bad requests cannot fill the disk.
-- No event holds a secret, a token or a hash: credentials are named by their public handle (an initial access token's id, a bearer token's subject and issuer).
-- changes is the JSON array of an update's diff; timestamps are seconds since the epoch.
-- Keep this file in step with migrations/postgres: both backends run the same SQL in src/queries/audit.rs.

CREATE TABLE audit_events (
    id                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    time              INTEGER NOT NULL,
    action            TEXT    NOT NULL,
    outcome           TEXT    NOT NULL,
    client_id         TEXT,
    route             TEXT,
    credential_id     TEXT,
    credential_issuer TEXT,
    software_id       TEXT,
    source_ip         TEXT,
    user_agent        TEXT,
    error             TEXT,
    changes           TEXT    NOT NULL DEFAULT '[]'
) STRICT;

CREATE INDEX audit_events_time ON audit_events (time, id);
CREATE INDEX audit_events_client ON audit_events (client_id, time, id);
-- Finds the oldest refusals to drop without reading the changes.
CREATE INDEX audit_events_refusals ON audit_events (id) WHERE outcome <> 'success';

-- How each client still registered was registered, kept while it is: the retention of audit_events does not reach it.
-- No foreign key to clients: the client may live in a store of its own (Stores::with_clients).
CREATE TABLE client_provenance (
    client_id         TEXT    NOT NULL PRIMARY KEY,
    registered_at     INTEGER NOT NULL,
    route             TEXT,
    credential_id     TEXT,
    credential_issuer TEXT,
    software_id       TEXT,
    source_ip         TEXT,
    user_agent        TEXT
) STRICT;
