-- Installation-wide values. `key_hmac_secret` (sealed) keys the hash that identifies provider keys;
-- it is kept here, encrypted under the master key, so that rotating the master key keeps every
-- recorded key identity valid.
CREATE TABLE settings (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
