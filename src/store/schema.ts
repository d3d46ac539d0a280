import type { ColumnType, Generated, Selectable } from "kysely";
import type { AccessState, StoredEvidence } from "../domain/access.js";
import type { Finding, ReconcileOutcome, ReconcileTrigger } from "../domain/drift.js";
import type { ActionKind, HealthState } from "../domain/health-policy.js";
import type { PackManifest, ProviderDefinition } from "../domain/pack/schema.js";
import type { BatchSummary } from "../domain/plan.js";
import type { ItemStatus, ResourceState, ResourceType } from "../domain/resources.js";
import type { BatchStatus, ProviderStatus } from "../domain/status.js";
import type { HostCapabilities } from "../host/sub2api/index.js";

/**
 * The one description of the store's tables, for both engines: each column's kind and NULL rule
 * (the migrations, one set per engine, are the source of truth for constraints;
 * tests/integration/store.test.ts checks that both engines' migrated tables have exactly these
 * columns, kinds and NULL rules). Keys are the columns' names in code (camelCase); in SQL they are
 * snake_case (Kysely's CamelCasePlugin maps them). `json` columns hold JSON text and `boolean`
 * columns 0/1 on both engines: the store's value plugin (db.ts) writes and reads them as values.
 */
export type ColumnKind = "text" | "integer" | "json" | "boolean";

export interface Column<T> {
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** Type only: what the column holds in code. */
  readonly __type?: T;
}

const col =
  <T>(kind: ColumnKind) =>
  (): Column<T> => ({ kind, nullable: false });
const text = <T extends string = string>() => col<T>("text")();
const integer = () => col<number>("integer")();
const json = <T>() => col<T>("json")();
const boolean = () => col<boolean>("boolean")();
/** A column that may be NULL. */
const nullable = <T>(c: Column<T>): Column<T | null> => ({ kind: c.kind, nullable: true });
/** A column the database fills when an insert leaves it out (an identity id, a DEFAULT). */
const generated = <T>(c: Column<T>): Column<Generated<T>> => ({ kind: c.kind, nullable: c.nullable });

export interface HostReason {
  code: string;
  message: string;
  hint?: string;
}

/**
 * A recorded mapping change: `pending` (intent recorded, the host may or may not have acted),
 * `applied`, `failed` (the host refused), `restore_pending`, `restored`, `left` (changed on the
 * host by someone else since: a rollback leaves it as it is).
 */
export type MappingChangeState = "pending" | "applied" | "failed" | "restore_pending" | "restored" | "left";

/**
 * What a batch of the ledger is: `import` (keys made into accounts), `rotation` (key rotation in
 * place: created nothing, its items are new keys, one per account), `model_migration` (`relay
 * provider migrate`: no keys, its changes are mapping_changes rows; a rollback restores them).
 */
export type BatchKind = "import" | "rotation" | "model_migration";

/** The capability matrix as a probe stored it, with how the version was found and the page size. */
export type SnapshotCapabilities = HostCapabilities & {
  max_page_size?: number;
  version_source?: string | null;
};

export const tables = {
  hosts: {
    id: text(),
    name: text(),
    baseUrl: text(),
    authType: text<"admin_api_key">(),
    adminTokenSealed: text(),
    adminTokenHint: text(),
    probeIdentity: text<"auto" | "user" | "none">(),
    probeUserEmail: nullable(text()),
    probeUserId: nullable(integer()),
    probePasswordSealed: nullable(text()),
    version: nullable(text()),
    status: text<"supported" | "unsupported">(),
    statusReasons: json<HostReason[]>(),
    createdAt: text(),
    updatedAt: text(),
    lastProbedAt: nullable(text()),
  },
  host_capability_snapshots: {
    id: generated(integer()),
    hostId: text(),
    version: nullable(text()),
    profile: nullable(text()),
    status: text<"supported" | "unsupported">(),
    capabilities: json<SnapshotCapabilities>(),
    blockers: json<string[]>(),
    reasons: json<HostReason[]>(),
    warnings: json<HostReason[]>(),
    probedAt: text(),
  },
  packs: {
    id: generated(integer()),
    packId: text(),
    version: text(),
    name: text(),
    description: text(),
    manifest: json<PackManifest & { providers: ProviderDefinition[] }>(),
    contentHash: text(),
    source: text(),
    isCurrent: boolean(),
    installedAt: text(),
  },
  providers: {
    id: generated(integer()),
    packId: text(),
    providerId: text(),
    packVersion: text(),
    displayName: text(),
    definition: json<ProviderDefinition>(),
    updatedAt: text(),
    /** The key_pattern passed the ReDoS check at install (0 for rows from before the check). */
    keyPatternChecked: generated(boolean()),
  },
  provider_installs: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    status: text<ProviderStatus>(),
    statusReason: text(),
    statusChangedAt: text(),
    accessState: text<AccessState>(),
    accessReason: generated(text()),
    generation: integer(),
    lastReconcileAt: nullable(text()),
    createdAt: text(),
    updatedAt: text(),
  },
  import_batches: {
    id: text(),
    hostId: text(),
    providerId: text(),
    packVersion: text(),
    mode: text<"strict" | "partial">(),
    kind: generated(text<BatchKind>()),
    accessMode: nullable(text<"subscription" | "self-service">()),
    status: text<BatchStatus>(),
    statusReason: text(),
    planFingerprint: nullable(text()),
    options: json<Record<string, unknown>>(),
    keyCount: integer(),
    summary: json<BatchSummary>(),
    createdAt: text(),
    startedAt: nullable(text()),
    finishedAt: nullable(text()),
    updatedAt: text(),
  },
  import_batch_items: {
    id: generated(integer()),
    batchId: text(),
    position: integer(),
    rawKeyHash: text(),
    keyMask: text(),
    status: text<ItemStatus>(),
    errorCode: nullable(text()),
    errorMessage: nullable(text()),
    result: json<Record<string, unknown>>(),
    updatedAt: text(),
  },
  managed_resources: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    batchId: nullable(text()),
    resourceType: text<ResourceType>(),
    logicalKey: text(),
    name: text(),
    hostResourceId: nullable(integer()),
    state: text<ResourceState>(),
    origin: text<"created" | "reused">(),
    idempotencyKey: text(),
    rawKeyHash: nullable(text()),
    attrs: json<Record<string, unknown>>(),
    createdAt: text(),
    updatedAt: text(),
  },
  mapping_changes: {
    id: generated(integer()),
    batchId: text(),
    hostId: text(),
    providerId: text(),
    target: text<"account" | "channel">(),
    hostResourceId: integer(),
    name: text(),
    aliases: generated(json<{ from: string; to: string }[]>()),
    mappingBefore: json<Record<string, unknown>>(),
    mappingAfter: json<Record<string, unknown>>(),
    state: text<MappingChangeState>(),
    error: nullable(text()),
    createdAt: text(),
    updatedAt: text(),
  },
  probe_results: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    batchId: nullable(text()),
    kind: text<"account_test" | "gateway">(),
    resourceId: nullable(integer()),
    success: boolean(),
    httpStatus: nullable(integer()),
    errorCode: nullable(text()),
    message: nullable(text()),
    model: nullable(text()),
    latencyMs: nullable(integer()),
    detail: json<Record<string, unknown>>(),
    createdAt: text(),
  },
  access_closure_records: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    batchId: nullable(text()),
    state: text<AccessState>(),
    reason: text(),
    evidence: json<StoredEvidence>(),
    createdAt: text(),
  },
  reconcile_runs: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    trigger: text<ReconcileTrigger>(),
    outcome: text<ReconcileOutcome | "running">(),
    previousStatus: nullable(text()),
    newStatus: nullable(text()),
    findings: json<Finding[]>(),
    hostCalls: integer(),
    startedAt: text(),
    finishedAt: nullable(text()),
    durationMs: nullable(integer()),
  },
  locks: {
    name: text(),
    owner: text(),
    acquiredAt: text(),
    expiresAt: text(),
  },
  events: {
    id: generated(integer()),
    at: text(),
    kind: text(),
    hostId: nullable(text()),
    providerId: nullable(text()),
    batchId: nullable(text()),
    message: text(),
    data: generated(json<Record<string, unknown>>()),
  },
  settings: {
    key: text(),
    value: text(),
    updatedAt: text(),
  },
  health_policies: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    enforce: generated(boolean()),
    failAfter: generated(integer()),
    resumeAfter: generated(integer()),
    health: generated(text<HealthState>()),
    healthReason: generated(text()),
    healthChangedAt: nullable(text()),
    updatedAt: text(),
  },
  account_health: {
    id: generated(integer()),
    hostId: text(),
    providerId: text(),
    accountId: integer(),
    accountName: text(),
    failStreak: generated(integer()),
    passStreak: generated(integer()),
    resumes: generated(integer()),
    latched: generated(boolean()),
    latchReason: nullable(text()),
    latchedAt: nullable(text()),
    lastAction: nullable(text<ActionKind>()),
    updatedAt: text(),
  },
} as const;

export type TableName = keyof typeof tables;

type ColumnsOf<C> = { [K in keyof C]: C[K] extends Column<infer T> ? T : never };

/** The store's tables as Kysely reads and writes them (one typed database for both engines). */
export type Database = { [T in TableName]: ColumnsOf<(typeof tables)[T]> };

/** Text in SQL: a column name in code → its name in the database. */
export const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Column names (in code) of one kind in any table: the value plugin converts these. */
function columnsOfKind(kind: ColumnKind): Set<string> {
  const names = new Set<string>();
  for (const columns of Object.values(tables))
    for (const [name, c] of Object.entries(columns) as [string, Column<unknown>][])
      if (c.kind === kind) names.add(name);
  return names;
}
export const JSON_COLUMNS = columnsOfKind("json");
export const BOOLEAN_COLUMNS = columnsOfKind("boolean");

export type HostRow = Selectable<Database["hosts"]>;
export type CapabilitySnapshotRow = Selectable<Database["host_capability_snapshots"]>;
export type PackRow = Selectable<Database["packs"]>;
export type Row<T extends TableName> = Selectable<Database[T]>;
export type { ColumnType };
