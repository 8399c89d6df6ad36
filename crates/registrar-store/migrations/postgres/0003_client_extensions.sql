-- Extension members a custom registration step chose to keep (a JSON object), stored with the
-- client and returned with its metadata.
ALTER TABLE clients ADD COLUMN extensions TEXT NOT NULL DEFAULT '{}';
