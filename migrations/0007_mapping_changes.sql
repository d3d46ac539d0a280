-- Model migrations (issue #27 item 3; 0006 is the rotation branch's batch kind): one row per host resource whose model mapping a migration
-- batch changes, recorded before the host call with the mapping it had (`mapping_before`) and the one it
-- gets (`mapping_after`). A mapping holds no secret: for an account `mapping_before`/`mapping_after` are its non-sensitive
-- credential fields as read from the host (never the key), for a channel its model_mapping.
-- `relay batch rollback` puts `mapping_before` back.
CREATE TABLE mapping_changes (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id          TEXT NOT NULL REFERENCES import_batches(id),
  host_id           TEXT NOT NULL REFERENCES hosts(id),
  provider_id       TEXT NOT NULL,
  target            TEXT NOT NULL CHECK (target IN ('account', 'channel')),
  host_resource_id  INTEGER NOT NULL,
  name              TEXT NOT NULL,
  aliases           TEXT NOT NULL DEFAULT '[]',
  mapping_before    TEXT NOT NULL,
  mapping_after     TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN
                      ('pending', 'applied', 'failed', 'restore_pending', 'restored', 'left')),
  error             TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  UNIQUE (batch_id, target, host_resource_id)
);
CREATE INDEX mapping_changes_batch ON mapping_changes(batch_id);
