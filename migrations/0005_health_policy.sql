-- The health policy (issue #28): per provider on a host, whether relay enforces it (observe by
-- default), its thresholds and the provider's last health; per account relay made, its test
-- streaks and relay's own latch — relay resumes only accounts it latched (paused itself), and
-- `relay provider release` clears the latches.
CREATE TABLE health_policies (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id            TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  provider_id        TEXT NOT NULL,
  enforce            INTEGER NOT NULL DEFAULT 0 CHECK (enforce IN (0, 1)),
  fail_after         INTEGER NOT NULL DEFAULT 3 CHECK (fail_after BETWEEN 1 AND 100),
  resume_after       INTEGER NOT NULL DEFAULT 2 CHECK (resume_after BETWEEN 1 AND 100),
  health             TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'degraded', 'down')),
  health_reason      TEXT NOT NULL DEFAULT '',
  health_changed_at  TEXT,
  updated_at         TEXT NOT NULL,
  UNIQUE (host_id, provider_id)
);

CREATE TABLE account_health (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id       TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  provider_id   TEXT NOT NULL,
  account_id    INTEGER NOT NULL,
  account_name  TEXT NOT NULL,
  fail_streak   INTEGER NOT NULL DEFAULT 0,
  pass_streak   INTEGER NOT NULL DEFAULT 0,
  resumes       INTEGER NOT NULL DEFAULT 0,
  latched       INTEGER NOT NULL DEFAULT 0 CHECK (latched IN (0, 1)),
  latch_reason  TEXT,
  latched_at    TEXT,
  last_action   TEXT,
  updated_at    TEXT NOT NULL,
  UNIQUE (host_id, provider_id, account_id)
);
