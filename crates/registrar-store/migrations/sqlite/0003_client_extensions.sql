-- Extension members a custom registration step chose to keep (a JSON object), stored with the
-- client and returned with its metadata.
ALTER TABLE clients ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';

-- 1 when the client was registered by an anonymous caller (open registration): the rules of
-- open registration then apply to its updates too. Before this column, only initial access
-- tokens authenticated registrations, so a client without one was anonymous.
ALTER TABLE clients ADD COLUMN registered_anonymously INTEGER NOT NULL DEFAULT 0;
UPDATE clients SET registered_anonymously = 1 WHERE initial_token_id IS NULL;
