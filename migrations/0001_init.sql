-- State store of sub2api-cn-relay-manager.
-- Rule: no column holds a plaintext provider key. Provider keys appear only as an HMAC
-- (`raw_key_hash`, 64 hex) and a short mask; CHECK constraints make anything else fail.
-- Host admin tokens and probe passwords are stored sealed (AES-256-GCM, "v1:..." format).

CREATE TABLE hosts (
  id                    TEXT PRIMARY KEY,
  name                  TEXT NOT NULL UNIQUE,
  base_url              TEXT NOT NULL,
  auth_type             TEXT NOT NULL CHECK (auth_type IN ('admin_api_key')),
  admin_token_sealed    TEXT NOT NULL CHECK (admin_token_sealed LIKE 'v1:%'),
  admin_token_hint      TEXT NOT NULL CHECK (length(admin_token_hint) <= 16),
  probe_identity        TEXT NOT NULL DEFAULT 'auto' CHECK (probe_identity IN ('auto', 'user', 'none')),
  probe_user_email      TEXT,
  probe_user_id         INTEGER,
  probe_password_sealed TEXT CHECK (probe_password_sealed IS NULL OR probe_password_sealed LIKE 'v1:%'),
  version               TEXT,
  status                TEXT NOT NULL CHECK (status IN ('supported', 'unsupported')),
  status_reasons        TEXT NOT NULL DEFAULT '[]',
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL,
  last_probed_at        TEXT
);

CREATE TABLE host_capability_snapshots (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id       TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  version       TEXT,
  profile       TEXT,
  status        TEXT NOT NULL CHECK (status IN ('supported', 'unsupported')),
  capabilities  TEXT NOT NULL,
  blockers      TEXT NOT NULL DEFAULT '[]',
  reasons       TEXT NOT NULL DEFAULT '[]',
  warnings      TEXT NOT NULL DEFAULT '[]',
  probed_at     TEXT NOT NULL
);
CREATE INDEX host_capability_snapshots_host ON host_capability_snapshots(host_id, id);

CREATE TABLE packs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  pack_id       TEXT NOT NULL,
  version       TEXT NOT NULL,
  name          TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  manifest      TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  source        TEXT NOT NULL,
  is_current    INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1)),
  installed_at  TEXT NOT NULL,
  UNIQUE (pack_id, version)
);
CREATE UNIQUE INDEX packs_one_current ON packs(pack_id) WHERE is_current = 1;

CREATE TABLE providers (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  pack_id       TEXT NOT NULL,
  provider_id   TEXT NOT NULL,
  pack_version  TEXT NOT NULL,
  display_name  TEXT NOT NULL,
  definition    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  UNIQUE (pack_id, provider_id)
);
CREATE UNIQUE INDEX providers_provider_id ON providers(provider_id);

-- One row per (host, provider): the provider's life on that host.
CREATE TABLE provider_installs (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id             TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  provider_id         TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN
                        ('discovered', 'validated', 'installed', 'active', 'degraded', 'drifted', 'failed', 'disabled')),
  status_reason       TEXT NOT NULL DEFAULT '',
  status_changed_at   TEXT NOT NULL,
  access_state        TEXT NOT NULL DEFAULT 'not_configured' CHECK (access_state IN
                        ('not_configured', 'subscription_ready', 'self_service_ready', 'fully_ready', 'broken')),
  generation          INTEGER NOT NULL DEFAULT 1,
  last_reconcile_at   TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  UNIQUE (host_id, provider_id)
);

CREATE TABLE import_batches (
  id                 TEXT PRIMARY KEY,
  host_id            TEXT NOT NULL REFERENCES hosts(id),
  provider_id        TEXT NOT NULL,
  pack_version       TEXT NOT NULL,
  mode               TEXT NOT NULL CHECK (mode IN ('strict', 'partial')),
  access_mode        TEXT CHECK (access_mode IS NULL OR access_mode IN ('subscription', 'self-service')),
  status             TEXT NOT NULL CHECK (status IN ('pending', 'previewed', 'running', 'succeeded',
                       'partially_succeeded', 'failed', 'rollback_running', 'rolled_back')),
  status_reason      TEXT NOT NULL DEFAULT '',
  plan_fingerprint   TEXT,
  options            TEXT NOT NULL DEFAULT '{}',
  key_count          INTEGER NOT NULL DEFAULT 0,
  summary            TEXT NOT NULL DEFAULT '{}',
  created_at         TEXT NOT NULL,
  started_at         TEXT,
  finished_at        TEXT,
  updated_at         TEXT NOT NULL
);
CREATE INDEX import_batches_provider ON import_batches(host_id, provider_id, created_at);
CREATE INDEX import_batches_status ON import_batches(status);

CREATE TABLE import_batch_items (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id        TEXT NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  raw_key_hash    TEXT NOT NULL CHECK (length(raw_key_hash) = 64 AND raw_key_hash NOT GLOB '*[^0-9a-f]*'),
  key_mask        TEXT NOT NULL CHECK (length(key_mask) <= 16),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'created', 'reused', 'tested', 'failed', 'skipped', 'rolled_back')),
  error_code      TEXT,
  error_message   TEXT,
  result          TEXT NOT NULL DEFAULT '{}',
  updated_at      TEXT NOT NULL,
  UNIQUE (batch_id, raw_key_hash)
);

-- Every host resource the control plane created or adopted, recorded before the host write.
CREATE TABLE managed_resources (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id           TEXT NOT NULL REFERENCES hosts(id),
  provider_id       TEXT NOT NULL,
  batch_id          TEXT REFERENCES import_batches(id),
  resource_type     TEXT NOT NULL CHECK (resource_type IN
                      ('group', 'channel', 'plan', 'account', 'subscription', 'probe_user', 'probe_key')),
  logical_key       TEXT NOT NULL,
  name              TEXT NOT NULL,
  host_resource_id  INTEGER,
  state             TEXT NOT NULL CHECK (state IN
                      ('create_pending', 'created', 'reused', 'delete_pending', 'deleted', 'failed', 'gone')),
  origin            TEXT NOT NULL DEFAULT 'created' CHECK (origin IN ('created', 'reused')),
  idempotency_key   TEXT NOT NULL,
  raw_key_hash      TEXT CHECK (raw_key_hash IS NULL OR
                      (length(raw_key_hash) = 64 AND raw_key_hash NOT GLOB '*[^0-9a-f]*')),
  attrs             TEXT NOT NULL DEFAULT '{}',
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  UNIQUE (host_id, provider_id, resource_type, logical_key)
);
CREATE INDEX managed_resources_batch ON managed_resources(batch_id);

CREATE TABLE probe_results (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id              TEXT NOT NULL REFERENCES hosts(id),
  provider_id          TEXT NOT NULL,
  batch_id             TEXT,
  kind                 TEXT NOT NULL CHECK (kind IN ('account_test', 'gateway')),
  resource_id          INTEGER REFERENCES managed_resources(id),
  success              INTEGER NOT NULL CHECK (success IN (0, 1)),
  http_status          INTEGER,
  error_code           TEXT,
  message              TEXT,
  model                TEXT,
  latency_ms           INTEGER,
  detail               TEXT NOT NULL DEFAULT '{}',
  created_at           TEXT NOT NULL
);
CREATE INDEX probe_results_provider ON probe_results(host_id, provider_id, id);

CREATE TABLE access_closure_records (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id       TEXT NOT NULL REFERENCES hosts(id),
  provider_id   TEXT NOT NULL,
  batch_id      TEXT,
  state         TEXT NOT NULL CHECK (state IN
                  ('not_configured', 'subscription_ready', 'self_service_ready', 'fully_ready', 'broken')),
  reason        TEXT NOT NULL DEFAULT '',
  evidence      TEXT NOT NULL DEFAULT '{}',
  created_at    TEXT NOT NULL
);
CREATE INDEX access_closure_records_provider ON access_closure_records(host_id, provider_id, id);

CREATE TABLE reconcile_runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id         TEXT NOT NULL REFERENCES hosts(id),
  provider_id     TEXT NOT NULL,
  trigger         TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule', 'cli')),
  outcome         TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'drift', 'degraded', 'error', 'skipped')),
  previous_status TEXT,
  new_status      TEXT,
  findings        TEXT NOT NULL DEFAULT '[]',
  host_calls      INTEGER NOT NULL DEFAULT 0,
  started_at      TEXT NOT NULL,
  finished_at     TEXT,
  duration_ms     INTEGER
);
CREATE INDEX reconcile_runs_provider ON reconcile_runs(host_id, provider_id, id);

-- Leases: one import/rollback/reconcile per (host, provider) at a time, surviving crashes by expiry.
CREATE TABLE locks (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);

-- Append-only event log: what happened, for `relay batch show` and audits. Never holds secrets.
CREATE TABLE events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           TEXT NOT NULL,
  kind         TEXT NOT NULL,
  host_id      TEXT,
  provider_id  TEXT,
  batch_id     TEXT,
  message      TEXT NOT NULL,
  data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_batch ON events(batch_id, id);
