import { eq } from "drizzle-orm";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { PROVEN_STATES } from "../domain/access.js";
import {
  diffResources,
  type Expectation,
  type Finding,
  type Observed,
  type RecordedResource,
  statusFromFindings,
} from "../domain/drift.js";
import { AppError } from "../domain/errors.js";
import { fromHostError } from "../domain/host-errors.js";
import { mapProvider } from "../domain/mapping.js";
import { ownershipTag } from "../domain/naming.js";
import { parseHostVersion, parseRange, satisfies } from "../domain/pack/version-range.js";
import type { HostAdapter, HostCapabilities } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { LOCK_TTL_MS } from "../provision/rollback.js";
import { runAccessProbe } from "../steps/access-proof.js";
import { nowIso } from "../store/db.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { acquireLock, currentOwner, providerLockName, releaseLock } from "../store/locks.js";
import { getProviderDefinition } from "../store/packs.js";
import {
  getInstall,
  liveResources,
  type ResourceRow,
  setProviderStatus,
  updateResource,
} from "../store/resources.js";
import { providerInstalls, reconcileRuns } from "../store/schema.js";
import { mapLimit } from "../util/concurrency.js";

export interface ReconcileOptions {
  trigger: "manual" | "schedule" | "cli";
  /** Opt-in repairs that need no plaintext key: re-bind accounts, re-assign subscriptions, re-create a channel. */
  heal?: boolean;
  testConcurrency?: number;
}

export interface ReconcileResult {
  run_id: number;
  host_id: string;
  provider_id: string;
  outcome: "ok" | "drift" | "degraded" | "error" | "skipped";
  previous_status: string | null;
  new_status: string | null;
  reason: string;
  access_state: string | null;
  findings: (Finding & { healed?: boolean })[];
  healed: string[];
  host_calls: number;
  duration_ms: number;
}

/**
 * One reconcile of a provider on a host (design §7): list the host's resources (a few paged list
 * calls), compare with the records, re-test the accounts, re-prove access, record the run, move the
 * provider status. Drift is reported, not healed, unless `heal` is asked for.
 */
export async function reconcileProvider(
  ctx: AppContext,
  input: { hostRef: string; providerId: string },
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const host = findHost(ctx, input.hostRef);
  const install = getInstall(ctx, host.id, input.providerId);
  if (!install)
    throw new AppError(
      "not_found",
      "PROVIDER_NOT_ON_HOST",
      `${input.providerId} was never imported on ${host.name}`,
    );
  const started = ctx.clock();
  const insert = ctx.db
    .insert(reconcileRuns)
    .values({
      hostId: host.id,
      providerId: input.providerId,
      trigger: options.trigger,
      outcome: "running",
      previousStatus: install.status,
      findings: [],
      hostCalls: 0,
      startedAt: started.toISOString(),
    })
    .returning({ id: reconcileRuns.id })
    .get();
  const runId = insert.id;
  let calls = 0;
  const counting: AppContext = {
    ...ctx,
    hostAdapter: (o) => ctx.hostAdapter({ ...o, onCall: () => (calls += 1) }),
  };
  const finish = (
    outcome: ReconcileResult["outcome"],
    findings: ReconcileResult["findings"],
    healed: string[],
    reason: string,
    access: string | null,
  ): ReconcileResult => {
    const durationMs = Date.now() - started.getTime();
    const now = nowIso(ctx);
    const after = getInstall(ctx, host.id, input.providerId);
    ctx.db
      .update(reconcileRuns)
      .set({
        outcome,
        newStatus: after?.status ?? null,
        findings,
        hostCalls: calls,
        finishedAt: now,
        durationMs,
      })
      .where(eq(reconcileRuns.id, runId))
      .run();
    if (outcome !== "skipped")
      ctx.db
        .update(providerInstalls)
        .set({ lastReconcileAt: now })
        .where(eq(providerInstalls.id, install.id))
        .run();
    ctx.metrics.reconcileRuns.inc({ trigger: options.trigger, outcome });
    ctx.metrics.reconcileSeconds.observe(durationMs / 1000);
    for (const f of findings) ctx.metrics.findings.inc({ kind: f.kind });
    return {
      run_id: runId,
      host_id: host.id,
      provider_id: input.providerId,
      outcome,
      previous_status: install.status,
      new_status: after?.status ?? null,
      reason,
      access_state: access,
      findings,
      healed,
      host_calls: calls,
      duration_ms: durationMs,
    };
  };

  if (install.status === "disabled")
    return finish("skipped", [], [], "provider is disabled on this host", null);
  const lockName = providerLockName(host.id, input.providerId);
  const owner = currentOwner("reconcile");
  if (!acquireLock(ctx.db, lockName, owner, LOCK_TTL_MS, ctx.clock()).ok) {
    if (options.trigger === "schedule")
      return finish("skipped", [], [], "an import, rollback or reconcile of this provider is running", null);
    ctx.db.delete(reconcileRuns).where(eq(reconcileRuns.id, runId)).run();
    throw new AppError(
      "locked",
      "PROVIDER_BUSY",
      `an import, rollback or reconcile of ${input.providerId} on ${host.name} is running`,
      { hint: "Try again when it has finished." },
    );
  }
  try {
    const { definition: def, versionRange } = getProviderDefinition(ctx, input.providerId);
    const caps = latestCapabilities(ctx, host.id);
    const findings: ReconcileResult["findings"] = [];
    const hv = host.version ? parseHostVersion(host.version) : undefined;
    const range = parseRange(versionRange);
    if (!hv || typeof range === "string" || !satisfies(hv, range)) {
      findings.push({
        kind: "incompatible",
        resource_type: "pack",
        name: input.providerId,
        host_resource_id: null,
        message: `the pack supports sub2api ${versionRange}; the host runs ${host.version}`,
      });
    }
    const adapter = hostAdapterFor(counting, host);
    const rows = liveResources(ctx, host.id, input.providerId).filter((r) => r.hostResourceId !== null);
    const recorded = expectations(rows, def, caps);
    const observed = await observe(adapter, input.providerId, caps, rows);
    findings.push(...diffResources(input.providerId, recorded, observed));

    const healed = options.heal ? await heal(ctx, adapter, def, caps, rows, findings) : [];

    // Re-test the accounts still on the host, then re-prove access.
    const present = new Set(observed.accounts.map((a) => a.id));
    const accounts = rows.filter(
      (r) => r.resourceType === "account" && present.has(r.hostResourceId as number),
    );
    await mapLimit(accounts, options.testConcurrency ?? 4, async (r) => {
      try {
        const t = await adapter.testAccount(r.hostResourceId as number, def.smoke_test_model);
        if (!t.success)
          findings.push({
            kind: "account_failing",
            resource_type: "account",
            name: r.name,
            host_resource_id: r.hostResourceId,
            message: `account ${r.name} (#${r.hostResourceId}) fails its test: ${t.error}`,
          });
      } catch (err) {
        findings.push({
          kind: "account_failing",
          resource_type: "account",
          name: r.name,
          host_resource_id: r.hostResourceId,
          message: `account ${r.name} could not be tested: ${isHostError(err) ? err.message : String(err)}`,
        });
      }
    });
    let access: string | null = null;
    try {
      const a = await runAccessProbe(counting, { hostRef: host.id, providerId: input.providerId });
      access = a.access_state;
      if (a.access_state === "broken") {
        findings.push({
          kind: "access_broken",
          resource_type: "access",
          name: input.providerId,
          host_resource_id: null,
          message: `access broken: ${a.reason}${a.gateway?.error_code ? ` (${a.gateway.error_code})` : ""}`,
        });
      }
    } catch (err) {
      findings.push({
        kind: "access_broken",
        resource_type: "access",
        name: input.providerId,
        host_resource_id: null,
        message: `access probe failed: ${(err as Error).message}`,
      });
    }
    const open = findings.filter((f) => !f.healed);
    const { status, reason } = statusFromFindings(
      open,
      access !== null && (PROVEN_STATES as string[]).includes(access),
    );
    setProviderStatus(ctx, host.id, input.providerId, status, reason);
    const outcome =
      status === "drifted" || status === "failed" ? "drift" : status === "degraded" ? "degraded" : "ok";
    return finish(outcome, findings, healed, reason, access);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    finish("error", [], [], reason, null);
    throw fromHostError(err, host.baseUrl);
  } finally {
    releaseLock(ctx.db, lockName, owner);
  }
}

function expectations(
  rows: ResourceRow[],
  def: ReturnType<typeof getProviderDefinition>["definition"],
  caps: HostCapabilities,
): RecordedResource[] {
  const mapping = mapProvider(def, caps);
  const groupOf = new Map(
    rows
      .filter((r) => r.resourceType === "group")
      .map((r) => [r.logicalKey.split(":")[0], r.hostResourceId as number]),
  );
  const out: RecordedResource[] = [];
  for (const r of rows) {
    const gid = groupOf.get(r.logicalKey.split(":")[0]);
    let expect: Expectation | undefined;
    switch (r.resourceType) {
      case "group":
        expect = {
          type: "group",
          platform: mapping.platform,
          subscription_type: def.group_defaults.subscription_type,
          status: "active",
        };
        break;
      case "account":
        if (gid !== undefined)
          expect = {
            type: "account",
            platform: mapping.platform,
            group_id: gid,
            base_url: mapping.baseUrl,
            model_mapping: mapping.modelMapping,
            status: "active",
            schedulable: true,
          };
        break;
      case "channel":
        if (gid !== undefined) expect = { type: "channel", group_id: gid };
        break;
      case "plan":
        if (gid !== undefined) expect = { type: "plan", group_id: gid };
        break;
      case "subscription": {
        const a = r.attrs as { user_id?: number; group_id?: number };
        if (a.user_id && a.group_id)
          expect = { type: "subscription", user_id: a.user_id, group_id: a.group_id };
        break;
      }
    }
    if (expect) out.push({ name: r.name, hostResourceId: r.hostResourceId as number, expect });
  }
  return out;
}

/** A handful of list calls, never one GET per resource. */
async function observe(
  adapter: HostAdapter,
  providerId: string,
  caps: HostCapabilities,
  rows: ResourceRow[],
): Promise<Observed> {
  const groupIds = rows.filter((r) => r.resourceType === "group").map((r) => r.hostResourceId as number);
  const [groups, accounts, channels, plans] = await Promise.all([
    adapter.listGroups({ search: `relay-${providerId}` }),
    adapter.listAccounts({ search: `${providerId}-` }),
    caps.channels ? adapter.listChannels({ search: `relay-${providerId}` }) : Promise.resolve(undefined),
    caps.plans ? adapter.listPlans() : Promise.resolve(undefined),
  ]);
  const subscriptions = (
    await Promise.all(groupIds.map((gid) => adapter.listSubscriptions({ groupId: gid })))
  ).flat();
  return { groups, accounts, channels, plans, subscriptions };
}

/** Repairs that need no plaintext key. Missing accounts are left for re-import. */
async function heal(
  ctx: AppContext,
  adapter: HostAdapter,
  def: ReturnType<typeof getProviderDefinition>["definition"],
  caps: HostCapabilities,
  rows: ResourceRow[],
  findings: (Finding & { healed?: boolean })[],
): Promise<string[]> {
  const done: string[] = [];
  const mapping = mapProvider(def, caps);
  const rowOf = (f: Finding) =>
    rows.find((r) => r.resourceType === f.resource_type && r.hostResourceId === f.host_resource_id);
  const groupId = (r: ResourceRow) =>
    rows.find((g) => g.resourceType === "group" && g.logicalKey.split(":")[0] === r.logicalKey.split(":")[0])
      ?.hostResourceId as number | undefined;
  for (const f of findings) {
    const row = rowOf(f);
    if (!row) continue;
    try {
      if (f.kind === "changed" && f.resource_type === "account" && f.field === "group_ids") {
        const gid = groupId(row);
        if (gid === undefined) continue;
        await adapter.updateAccountGroups(row.hostResourceId as number, [gid]);
        f.healed = true;
        done.push(`re-bound account ${row.name} to group #${gid}`);
      } else if (f.kind === "missing" && f.resource_type === "subscription") {
        const a = row.attrs as { user_id?: number; group_id?: number; validity_days?: number };
        if (!a.user_id || !a.group_id) continue;
        const outcome = await adapter.assignSubscription({
          userId: a.user_id,
          groupId: a.group_id,
          validityDays: a.validity_days ?? 30,
          notes: ownershipTag(def.provider_id, row.batchId ?? ""),
        });
        if (outcome.kind !== "assigned") continue;
        updateResource(ctx, row.id, { hostResourceId: outcome.subscription.id });
        f.healed = true;
        done.push(`re-assigned the subscription of user ${a.user_id}`);
      } else if (f.kind === "missing" && f.resource_type === "channel") {
        const gid = groupId(row);
        if (gid === undefined) continue;
        const ch = await adapter.createChannel({
          name: `${row.name}-r${Date.now().toString(36)}`,
          description: ownershipTag(def.provider_id, row.batchId ?? ""),
          groupIds: [gid],
          modelPricing: mapping.pricing,
        });
        updateResource(ctx, row.id, { hostResourceId: ch.id });
        f.healed = true;
        done.push(`re-created channel for group #${gid} as #${ch.id}`);
      }
    } catch (err) {
      done.push(`could not heal ${f.resource_type} ${row.name}: ${(err as Error).message}`);
    }
  }
  return done;
}

/** Every (host, provider) not disabled, for `relay reconcile run --all` and the scheduler. */
export function reconcileTargets(ctx: AppContext): { hostId: string; providerId: string }[] {
  return ctx.db
    .select({
      hostId: providerInstalls.hostId,
      providerId: providerInstalls.providerId,
      status: providerInstalls.status,
    })
    .from(providerInstalls)
    .all()
    .filter((r) => r.status !== "disabled")
    .map(({ hostId, providerId }) => ({ hostId, providerId }));
}

export async function reconcileAll(
  ctx: AppContext,
  options: ReconcileOptions & { concurrency?: number },
): Promise<ReconcileResult[]> {
  const results = await mapLimit(reconcileTargets(ctx), options.concurrency ?? 4, async (t) => {
    try {
      return await reconcileProvider(ctx, { hostRef: t.hostId, providerId: t.providerId }, options);
    } catch (err) {
      ctx.logger.error({ err, host_id: t.hostId, provider_id: t.providerId }, "reconcile failed");
      return {
        run_id: 0,
        host_id: t.hostId,
        provider_id: t.providerId,
        outcome: "error" as const,
        previous_status: null,
        new_status: null,
        reason: err instanceof Error ? err.message : String(err),
        access_state: null,
        findings: [],
        healed: [],
        host_calls: 0,
        duration_ms: 0,
      };
    }
  });
  return results;
}
