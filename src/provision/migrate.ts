import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { conflict } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { type ChannelPrice, type ShownMapping, shows } from "../domain/model-migration.js";
import { summaryOfKeys } from "../domain/plan.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { advanceBatch } from "../steps/batch-status.js";
import { insertBatch } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { appendEvent } from "../store/events.js";
import { findHost } from "../store/hosts.js";
import { refreshProviderState } from "../store/installs.js";
import { withProviderLock } from "../store/locks.js";
import {
  type MappingChangeRow,
  mappingChanges,
  recordMappingChanges,
  setMappingChange,
} from "../store/mapping-changes.js";
import { type MigrateRequest, type MigrationPlan, planMigration } from "./migrate-plan.js";
import { MIGRATION_KIND } from "./migrate-restore.js";

export type { MigrateRequest, MigrationChange, MigrationPlan } from "./migrate-plan.js";

export interface MigrationResult {
  /** Null when there was nothing to change (no batch is recorded then). */
  batch_id: string | null;
  status: "succeeded" | "partially_succeeded" | "failed" | "nothing_to_migrate";
  status_reason: string;
  plan: MigrationPlan;
  changes: {
    target: "account" | "channel";
    host_resource_id: number;
    name: string;
    state: string;
    error: string | null;
  }[];
}

/** The dry run (`--dry-run`, `--plan-out`, the API's `dry_run`): what would change, nothing written. */
export async function previewMigration(ctx: AppContext, req: MigrateRequest): Promise<MigrationPlan> {
  return (await planMigration(ctx, req)).plan;
}

/**
 * Adds, on the accounts and the channel relay made for a provider on a host, an alias from each
 * model the installed pack version renames to its replacement (every other entry kept), as one
 * batch of the ledger: each change recorded with the mapping it had before the host call, the
 * call, its result. `relay batch rollback` puts the previous mappings back.
 */
export async function migrateProvider(
  ctx: AppContext,
  req: MigrateRequest,
  options: { expectedFingerprint?: string; onProgress?: (message: string) => void } = {},
): Promise<MigrationResult> {
  const host = await findHost(ctx, req.hostRef);
  const key = { hostId: host.id, providerId: req.providerId, hostName: host.name };
  return await withProviderLock(
    ctx,
    key,
    "migrate",
    async (ctx) => {
      const planned = await planMigration(ctx, req);
      const { plan, seeds, adapter } = planned;
      if (options.expectedFingerprint && options.expectedFingerprint !== plan.fingerprint) {
        throw conflict("PLAN_STALE", "the host's mappings or the installed pack changed since the preview", {
          hint: hint`Preview again: ${act.providerMigrate(`${req.providerId} --host ${host.name} --dry-run`)}.`,
        });
      }
      if (seeds.length === 0) {
        return {
          batch_id: null,
          status: "nothing_to_migrate",
          status_reason:
            plan.renames.length === 0
              ? `pack ${plan.pack_version} renames no model of ${req.providerId}`
              : "every account and channel relay made already maps the renamed models",
          plan,
          changes: [],
        };
      }
      const batchId = `b_${ctx.clock().toISOString().slice(0, 10).replace(/-/g, "")}_${randomBytes(5).toString("hex")}`;
      const where = { batchId, hostId: host.id, providerId: req.providerId };
      const aliases = [...new Set(plan.changes.flatMap((c) => c.aliases.map((a) => `${a.from} → ${a.to}`)))];
      await insertBatch(
        ctx,
        {
          id: batchId,
          hostId: host.id,
          providerId: req.providerId,
          packVersion: plan.pack_version,
          kind: MIGRATION_KIND,
          mode: "strict",
          accessMode: null,
          planFingerprint: plan.fingerprint,
          options: { renames: plan.renames },
          keyCount: 0,
          summary: summaryOfKeys(),
          startedAt: nowIso(ctx),
        },
        [],
      );
      // Intent first: every change with the mapping it had, before any host write.
      await recordMappingChanges(ctx, where, seeds);
      await appendEvent(ctx, {
        kind: "migration_started",
        message: `model migration to pack ${plan.pack_version}: ${aliases.join(", ")} on ${seeds.length} resource(s)`,
        ...where,
      });
      let applied = 0;
      for (const row of await mappingChanges(ctx, batchId)) {
        options.onProgress?.(`${row.target} ${row.name}`);
        if (await applyChange(ctx, adapter, row)) applied++;
      }
      const failed = seeds.length - applied;
      const next = await advanceBatch(ctx, batchId, { kind: "migration_finished", applied, failed, aliases });
      await refreshProviderState(ctx, host.id, req.providerId);
      await appendEvent(ctx, { kind: "migrated", message: next.reason, ...where });
      return {
        batch_id: batchId,
        status: next.status as MigrationResult["status"],
        status_reason: next.reason,
        plan,
        changes: (await mappingChanges(ctx, batchId)).map(changeView),
      };
    },
    ctx.config.leaseMs,
  );
}

export function changeView(r: MappingChangeRow): MigrationResult["changes"][number] {
  return {
    target: r.target,
    host_resource_id: r.hostResourceId,
    name: r.name,
    state: r.state,
    error: r.error,
  };
}

/**
 * One host write and its result. When the answer is lost (the host may have acted), the resource
 * is read back and its mapping decides: the host shows the new mapping → applied.
 */
async function applyChange(ctx: AppContext, adapter: HostAdapter, row: MappingChangeRow): Promise<boolean> {
  try {
    const shown = await writeMapping(adapter, row.target, row.hostResourceId, row.mappingAfter);
    if (!shows(shown, row.mappingAfter))
      throw new Error("the host answered with another model_mapping or pricing");
    await setMappingChange(ctx, row.id, "applied");
    return true;
  } catch (err) {
    const message = (err as Error).message;
    const now = await readMapping(adapter, row.target, row.hostResourceId).catch(() => undefined);
    if (now !== undefined && shows(now, row.mappingAfter)) {
      await setMappingChange(ctx, row.id, "applied");
      return true;
    }
    await setMappingChange(ctx, row.id, "failed", message);
    return false;
  }
}

/**
 * PUT the mapping (accounts: the full non-sensitive credentials; the host keeps the key; channels:
 * the model_mapping, and the model_pricing when the change records one).
 */
export async function writeMapping(
  adapter: HostAdapter,
  target: "account" | "channel",
  id: number,
  fields: Record<string, unknown>,
): Promise<ShownMapping> {
  if (target === "account")
    return { model_mapping: (await adapter.updateAccountCredentials(id, fields)).modelMapping ?? {} };
  const mapping = (fields.model_mapping ?? {}) as Record<string, Record<string, string>>;
  const pricing = fields.model_pricing as ChannelPrice[] | undefined;
  const ch = await adapter.updateChannelModelMapping(id, mapping, pricing);
  return { model_mapping: ch.modelMapping, model_pricing: ch.modelPricing };
}

/** The mapping (and a channel's pricing) the host shows now; undefined when the resource is gone. */
export async function readMapping(
  adapter: HostAdapter,
  target: "account" | "channel",
  id: number,
): Promise<ShownMapping | undefined> {
  if (target === "account") {
    const a = (await adapter.listAccounts()).find((x) => x.id === id);
    return a ? { model_mapping: a.modelMapping ?? {} } : undefined;
  }
  const ch = (await adapter.listChannels()).find((c) => c.id === id);
  return ch ? { model_mapping: ch.modelMapping, model_pricing: ch.modelPricing } : undefined;
}
