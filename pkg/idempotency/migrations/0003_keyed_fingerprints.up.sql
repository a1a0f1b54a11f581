-- Request fingerprints become keyed (HMAC-SHA-256 under a server secret):
-- an unkeyed SHA-256 of a body that holds a card number lets whoever reads
-- this table test guesses of the number. hash_version says how request_hash
-- was made: 0 unkeyed (the rows written before this migration, and by a
-- replica of the previous release during a rolling upgrade), 1 an unkeyed
-- digest fingerprinted again under the secret (Store.Rekey, at start-up and
-- hourly), 2 keyed (every row written since). The default is 0 so that the
-- rows of a previous release's replica are marked for Rekey.
ALTER TABLE idempotency_keys ADD COLUMN hash_version smallint NOT NULL DEFAULT 0;

-- Rekey finds the unkeyed rows without reading the others.
CREATE INDEX idempotency_keys_unkeyed ON idempotency_keys (scope, key) WHERE hash_version = 0;
