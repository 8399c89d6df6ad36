-- The registration policy a client was registered under: it governs the client's updates and
-- its use of introspection, and policies.NAME.max_clients counts by it.
ALTER TABLE clients ADD COLUMN policy TEXT;
CREATE INDEX clients_policy ON clients (policy);

-- The policy clients registered with an initial access token get (initial-token create
-- --policy NAME); NULL for the default policy.
ALTER TABLE initial_access_tokens ADD COLUMN policy TEXT;
