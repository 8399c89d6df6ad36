-- The registration policy a client was registered under: it governs the client's updates and
-- its use of introspection, and policies.NAME.max_clients counts by it.
ALTER TABLE clients ADD COLUMN policy TEXT;
CREATE INDEX clients_policy ON clients (policy);

-- The policy clients registered with an initial access token get (initial-token create
-- --policy NAME); NULL for the default policy.
ALTER TABLE initial_access_tokens ADD COLUMN policy TEXT;

-- Clients registered before policies get the built-in policy of their route, so that caps and
-- counts see them.
UPDATE clients SET policy = CASE WHEN registered_anonymously = 1 THEN 'open' ELSE 'default' END
WHERE policy IS NULL;
