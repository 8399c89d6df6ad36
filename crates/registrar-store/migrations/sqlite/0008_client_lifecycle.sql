-- Client lifecycle (lifecycle.unused_ttl, lifecycle.inactive_ttl) and blocking.
-- last_used_at is the client's last recorded use (token endpoint, introspection, revocation or
-- its registration access token), written at most once an hour per client; blocked_at is set by
-- `registrar clients block`.
ALTER TABLE clients ADD COLUMN last_used_at INTEGER;
ALTER TABLE clients ADD COLUMN blocked_at INTEGER;

-- Uses were not recorded before: every existing client counts as used now, so that turning a
-- TTL on gives it a whole TTL rather than deleting clients that are in use.
UPDATE clients SET last_used_at = CAST(strftime('%s', 'now') AS INTEGER);

-- The housekeeping's scan for inactive clients; the unused ones are found through clients_issued.
CREATE INDEX clients_last_activity ON clients ((COALESCE(last_used_at, client_id_issued_at)));
