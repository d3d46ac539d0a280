-- A provider whose every batch was rolled back is `not_installed` (it was `validated`, which read as
-- if it had never been imported). SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE provider_installs_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id             TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  provider_id         TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN
                        ('discovered', 'validated', 'not_installed', 'installed', 'active', 'degraded', 'drifted',
                         'failed', 'disabled')),
  status_reason       TEXT NOT NULL DEFAULT '',
  status_changed_at   TEXT NOT NULL,
  access_state        TEXT NOT NULL DEFAULT 'not_configured' CHECK (access_state IN
                        ('not_configured', 'subscription_ready', 'self_service_ready', 'fully_ready', 'broken')),
  access_reason       TEXT NOT NULL DEFAULT '',
  generation          INTEGER NOT NULL DEFAULT 1,
  last_reconcile_at   TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  UNIQUE (host_id, provider_id)
);
INSERT INTO provider_installs_new (id, host_id, provider_id, status, status_reason, status_changed_at, access_state,
  generation, last_reconcile_at, created_at, updated_at)
SELECT id, host_id, provider_id, status, status_reason, status_changed_at, access_state, generation,
  last_reconcile_at, created_at, updated_at FROM provider_installs;
DROP TABLE provider_installs;
ALTER TABLE provider_installs_new RENAME TO provider_installs;
