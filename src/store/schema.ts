import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { AccessState, StoredEvidence } from "../domain/access.js";
import type { Finding, ReconcileOutcome, ReconcileTrigger } from "../domain/drift.js";
import type { ActionKind, HealthState } from "../domain/health-policy.js";
import type { PackManifest, ProviderDefinition } from "../domain/pack/schema.js";
import type { BatchSummary } from "../domain/plan.js";
import type { ItemStatus, ResourceState, ResourceType } from "../domain/resources.js";
import type { BatchStatus, ProviderStatus } from "../domain/status.js";
import type { HostCapabilities } from "../host/sub2api/index.js";

// Mirrors migrations/*.sql (the SQL is the source of truth for constraints; a test checks that
// every column declared here exists in the migrated database with the same name).

const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();

export const hosts = sqliteTable("hosts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  baseUrl: text("base_url").notNull(),
  authType: text("auth_type").notNull().$type<"admin_api_key">(),
  adminTokenSealed: text("admin_token_sealed").notNull(),
  adminTokenHint: text("admin_token_hint").notNull(),
  probeIdentity: text("probe_identity").notNull().$type<"auto" | "user" | "none">(),
  probeUserEmail: text("probe_user_email"),
  probeUserId: integer("probe_user_id"),
  probePasswordSealed: text("probe_password_sealed"),
  version: text("version"),
  status: text("status").notNull().$type<"supported" | "unsupported">(),
  statusReasons: json<HostReason[]>("status_reasons").notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
  lastProbedAt: text("last_probed_at"),
});

export interface HostReason {
  code: string;
  message: string;
  hint?: string;
}

export const hostCapabilitySnapshots = sqliteTable("host_capability_snapshots", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  version: text("version"),
  profile: text("profile"),
  status: text("status").notNull().$type<"supported" | "unsupported">(),
  capabilities: json<SnapshotCapabilities>("capabilities").notNull(),
  blockers: json<string[]>("blockers").notNull(),
  reasons: json<HostReason[]>("reasons").notNull(),
  warnings: json<HostReason[]>("warnings").notNull(),
  probedAt: text("probed_at").notNull(),
});

/** The capability matrix as a probe stored it, with how the version was found and the page size. */
export type SnapshotCapabilities = HostCapabilities & {
  max_page_size?: number;
  version_source?: string | null;
};

export const packs = sqliteTable("packs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  packId: text("pack_id").notNull(),
  version: text("version").notNull(),
  name: text("name").notNull(),
  description: text("description").notNull(),
  manifest: json<PackManifest & { providers: ProviderDefinition[] }>("manifest").notNull(),
  contentHash: text("content_hash").notNull(),
  source: text("source").notNull(),
  isCurrent: integer("is_current", { mode: "boolean" }).notNull(),
  installedAt: text("installed_at").notNull(),
});

export const providers = sqliteTable("providers", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  packId: text("pack_id").notNull(),
  providerId: text("provider_id").notNull(),
  packVersion: text("pack_version").notNull(),
  displayName: text("display_name").notNull(),
  definition: json<ProviderDefinition>("definition").notNull(),
  updatedAt: text("updated_at").notNull(),
  /** The key_pattern passed the ReDoS check at install (0 for rows from before the check). */
  keyPatternChecked: integer("key_pattern_checked", { mode: "boolean" }).notNull().default(false),
});

export const providerInstalls = sqliteTable("provider_installs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  status: text("status").notNull().$type<ProviderStatus>(),
  statusReason: text("status_reason").notNull(),
  statusChangedAt: text("status_changed_at").notNull(),
  accessState: text("access_state").notNull().$type<AccessState>(),
  accessReason: text("access_reason").notNull().default(""),
  generation: integer("generation").notNull(),
  lastReconcileAt: text("last_reconcile_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const importBatches = sqliteTable("import_batches", {
  id: text("id").primaryKey(),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  packVersion: text("pack_version").notNull(),
  mode: text("mode").notNull().$type<"strict" | "partial">(),
  accessMode: text("access_mode").$type<"subscription" | "self-service">(),
  status: text("status").notNull().$type<BatchStatus>(),
  statusReason: text("status_reason").notNull(),
  planFingerprint: text("plan_fingerprint"),
  options: json<Record<string, unknown>>("options").notNull(),
  keyCount: integer("key_count").notNull(),
  summary: json<BatchSummary>("summary").notNull(),
  createdAt: text("created_at").notNull(),
  startedAt: text("started_at"),
  finishedAt: text("finished_at"),
  updatedAt: text("updated_at").notNull(),
});

export const importBatchItems = sqliteTable("import_batch_items", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  batchId: text("batch_id").notNull(),
  position: integer("position").notNull(),
  rawKeyHash: text("raw_key_hash").notNull(),
  keyMask: text("key_mask").notNull(),
  status: text("status").notNull().$type<ItemStatus>(),
  errorCode: text("error_code"),
  errorMessage: text("error_message"),
  result: json<Record<string, unknown>>("result").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const managedResources = sqliteTable("managed_resources", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  batchId: text("batch_id"),
  resourceType: text("resource_type").notNull().$type<ResourceType>(),
  logicalKey: text("logical_key").notNull(),
  name: text("name").notNull(),
  hostResourceId: integer("host_resource_id"),
  state: text("state").notNull().$type<ResourceState>(),
  origin: text("origin").notNull().$type<"created" | "reused">(),
  idempotencyKey: text("idempotency_key").notNull(),
  rawKeyHash: text("raw_key_hash"),
  attrs: json<Record<string, unknown>>("attrs").notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const probeResults = sqliteTable("probe_results", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  batchId: text("batch_id"),
  kind: text("kind").notNull().$type<"account_test" | "gateway">(),
  resourceId: integer("resource_id"),
  success: integer("success", { mode: "boolean" }).notNull(),
  httpStatus: integer("http_status"),
  errorCode: text("error_code"),
  message: text("message"),
  model: text("model"),
  latencyMs: integer("latency_ms"),
  detail: json<Record<string, unknown>>("detail").notNull(),
  createdAt: text("created_at").notNull(),
});

export const accessClosureRecords = sqliteTable("access_closure_records", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  batchId: text("batch_id"),
  state: text("state").notNull().$type<AccessState>(),
  reason: text("reason").notNull(),
  evidence: json<StoredEvidence>("evidence").notNull(),
  createdAt: text("created_at").notNull(),
});

export const reconcileRuns = sqliteTable("reconcile_runs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  trigger: text("trigger").notNull().$type<ReconcileTrigger>(),
  outcome: text("outcome").notNull().$type<ReconcileOutcome | "running">(),
  previousStatus: text("previous_status"),
  newStatus: text("new_status"),
  findings: json<Finding[]>("findings").notNull(),
  hostCalls: integer("host_calls").notNull(),
  startedAt: text("started_at").notNull(),
  finishedAt: text("finished_at"),
  durationMs: integer("duration_ms"),
});

export const locks = sqliteTable("locks", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  acquiredAt: text("acquired_at").notNull(),
  expiresAt: text("expires_at").notNull(),
});

export const events = sqliteTable("events", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: text("at").notNull(),
  kind: text("kind").notNull(),
  hostId: text("host_id"),
  providerId: text("provider_id"),
  batchId: text("batch_id"),
  message: text("message").notNull(),
  data: json<Record<string, unknown>>("data").notNull().default(sql`'{}'`),
});

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const healthPolicies = sqliteTable("health_policies", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  enforce: integer("enforce", { mode: "boolean" }).notNull().default(false),
  failAfter: integer("fail_after").notNull().default(3),
  resumeAfter: integer("resume_after").notNull().default(2),
  health: text("health").notNull().$type<HealthState>().default("unknown"),
  healthReason: text("health_reason").notNull().default(""),
  healthChangedAt: text("health_changed_at"),
  updatedAt: text("updated_at").notNull(),
});

export const accountHealth = sqliteTable("account_health", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: text("host_id").notNull(),
  providerId: text("provider_id").notNull(),
  accountId: integer("account_id").notNull(),
  accountName: text("account_name").notNull(),
  failStreak: integer("fail_streak").notNull().default(0),
  passStreak: integer("pass_streak").notNull().default(0),
  resumes: integer("resumes").notNull().default(0),
  latched: integer("latched", { mode: "boolean" }).notNull().default(false),
  latchReason: text("latch_reason"),
  latchedAt: text("latched_at"),
  lastAction: text("last_action").$type<ActionKind>(),
  updatedAt: text("updated_at").notNull(),
});

export const allTables = {
  hosts,
  host_capability_snapshots: hostCapabilitySnapshots,
  packs,
  providers,
  provider_installs: providerInstalls,
  import_batches: importBatches,
  import_batch_items: importBatchItems,
  managed_resources: managedResources,
  probe_results: probeResults,
  access_closure_records: accessClosureRecords,
  reconcile_runs: reconcileRuns,
  locks,
  events,
  settings,
  health_policies: healthPolicies,
  account_health: accountHealth,
};

export type HostRow = typeof hosts.$inferSelect;
export type CapabilitySnapshotRow = typeof hostCapabilitySnapshots.$inferSelect;
export type PackRow = typeof packs.$inferSelect;
