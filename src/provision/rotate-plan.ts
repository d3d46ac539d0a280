import { createHash } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import type { KeyTriage } from "../domain/key-triage.js";
import { mapProvider } from "../domain/mapping.js";
import {
  decideRotation,
  type RotationCandidate,
  type RotationKey,
  resumeAfterRotation,
} from "../domain/rotation.js";
import { callHost } from "../steps/host-call.js";
import { accountStates } from "../store/health.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getProviderDefinition } from "../store/packs.js";
import { resourceIndex } from "../store/resources.js";
import { mapLimit } from "../util/concurrency.js";
import { intakeKeys } from "./keys.js";
import { precheckOne } from "./precheck.js";
import { checkRequest, refuseUnservable } from "./preview.js";
import type { RotateRequest, RotationInternals, RotationPlan, RotationPlanKey } from "./rotate-types.js";
import { classCounts, READY, triageGroups } from "./triage.js";

/** The short form of a keyed hash shown for a key (the account name carries the same 8). */
export const fingerprint = (hash: string) => hash.slice(0, 8);

const NOT_CHECKED: KeyTriage = {
  class: "unknown",
  reason: "this build cannot show a key to its upstream without an account (sync-upstream-preview, 0.1.134+)",
  next_step: "rotate on a host build with the key pre-check",
  suggested_provider: null,
  upstream_status: null,
};

/**
 * Preview of a rotation: the host and the records read, each new key shown to its upstream
 * through the host's model preview (nothing stored on the host), the accounts chosen and each
 * given a ready key. Nothing is written anywhere. The same function runs at the start of the
 * rotation itself, under the provider's lease.
 */
export async function buildRotationPlan(
  ctx: AppContext,
  req: RotateRequest,
): Promise<{ plan: RotationPlan; internals: RotationInternals }> {
  const host = await findHost(ctx, req.hostRef);
  const {
    definition: def,
    packVersion,
    versionRange,
    keyPatternChecked,
  } = await getProviderDefinition(ctx, req.providerId);
  checkRequest(host, def, versionRange, {
    hostRef: req.hostRef,
    providerId: def.provider_id,
    keys: [],
    mode: "partial",
  });
  const caps = await latestCapabilities(ctx, host.id);
  refuseUnservable(host, def, caps);
  const mapping = mapProvider(def, { version: host.version, caps });
  const intake = await intakeKeys(req.keys, ctx.secrets, def.key_pattern, req.maxKeys, keyPatternChecked);
  const old = req.oldKeys
    ? await intakeKeys(req.oldKeys, ctx.secrets, undefined, req.maxKeys, true)
    : undefined;
  const adapter = await hostAdapterFor(ctx, host);
  const records = await resourceIndex(ctx, host.id, def.provider_id);
  const onHost = await callHost(host, () => adapter.listAccounts({ search: `${def.provider_id}-` }));
  const internals: RotationInternals = {
    host,
    caps,
    def,
    mapping,
    adapter,
    keys: intake.keys,
    observed: { accounts: new Map(), subscriptions: [] },
    records,
    oldKeys: new Map((old?.keys ?? []).map((k) => [k.hash, k.secret])),
    onHost: new Map(onHost.map((a) => [a.id, a])),
    resourceIds: new Map(),
  };
  const candidates = await candidatesOf(ctx, internals);
  const inUse = new Map(candidates.map((c) => [c.oldKeyHash, c.id]));
  const triage = await triageNewKeys(ctx, internals, inUse);
  const keys: RotationKey[] = intake.keys.map((k) => ({
    position: k.position,
    line: k.line,
    mask: k.mask,
    hash: k.hash,
    ready: triage.get(k.position)?.class === "ready",
    inUseBy: inUse.get(k.hash) ?? null,
  }));
  const selector = req.accounts ?? "revoked";
  const decision = decideRotation(candidates, keys, selector);
  const plan = planBody(req, host, packVersion, def.smoke_test_model, decision, keys, triage, internals);
  if (!caps.models_preview)
    plan.blocked_reasons.push(
      `host "${host.name}" (${host.version}) cannot pre-check a key through sync-upstream-preview (0.1.134+): relay rotates only keys proven first`,
    );
  plan.blocked = plan.blocked_reasons.length > 0;
  return { plan, internals };
}

/** relay's live accounts of the provider that the host still shows, with relay's latches. */
async function candidatesOf(ctx: AppContext, internals: RotationInternals): Promise<RotationCandidate[]> {
  const { host, def, records } = internals;
  const latches = new Map(
    (await accountStates(ctx, host.id, def.provider_id)).map((s) => [s.accountId, s.latch?.reason ?? null]),
  );
  const candidates: RotationCandidate[] = [];
  for (const r of records.values()) {
    if (r.resourceType !== "account" || !["created", "reused"].includes(r.state)) continue;
    const a = r.hostResourceId === null ? undefined : internals.onHost.get(r.hostResourceId);
    if (!a || !r.rawKeyHash) continue;
    internals.resourceIds.set(a.id, r.id);
    candidates.push({
      id: a.id,
      name: a.name,
      groupId: a.groupIds[0] ?? null,
      status: a.status,
      schedulable: a.schedulable,
      errorMessage: a.errorMessage,
      pauseReason: a.pause.tempUnschedulableReason,
      latchReason: latches.get(a.id) ?? null,
      oldKeyHash: r.rawKeyHash,
    });
  }
  return candidates;
}

/** Each new key shown to its upstream through the host's model preview (nothing stored there). */
async function triageNewKeys(
  ctx: AppContext,
  internals: RotationInternals,
  inUse: Map<string, number>,
): Promise<Map<number, KeyTriage>> {
  const caps = internals.caps;
  const triage = new Map<number, KeyTriage>();
  await mapLimit(internals.keys, ctx.config.hostConcurrency, async (k) => {
    if (k.malformed) {
      triage.set(k.position, {
        ...NOT_CHECKED,
        reason: `does not match the provider's key_pattern (line ${k.line})`,
        next_step: "check that the key belongs to this provider",
      });
      return;
    }
    if (!caps.models_preview || inUse.has(k.hash)) return void triage.set(k.position, NOT_CHECKED);
    const t = await precheckOne(ctx, internals, k.secret);
    triage.set(
      k.position,
      t === "passed"
        ? {
            ...READY,
            reason:
              "the provider accepted the key (models listed); the account test after writing makes a chat call",
          }
        : (t ?? {
            ...NOT_CHECKED,
            reason: "the model preview proves nothing for this key",
            next_step: "check the key, or give another one",
          }),
    );
  });
  return triage;
}

function planBody(
  req: RotateRequest,
  host: RotationInternals["host"],
  packVersion: string,
  smokeModel: string,
  decision: ReturnType<typeof decideRotation>,
  keys: RotationKey[],
  triage: Map<number, KeyTriage>,
  internals: RotationInternals,
): RotationPlan {
  const assignedTo = new Map(
    decision.assignments.flatMap((a) => (a.key ? [[a.key.hash, a.account.id]] : [])),
  );
  const newKeys: RotationPlanKey[] = keys.map((k) => {
    const t = triage.get(k.position) ?? NOT_CHECKED;
    const to = assignedTo.get(k.hash);
    const use =
      to !== undefined
        ? `account #${to}`
        : k.inUseBy !== null
          ? `not used: already the key of account #${k.inUseBy}`
          : k.ready
            ? "spare: not needed"
            : `not used: ${t.class}`;
    return {
      line: k.line,
      key: k.mask,
      fingerprint: fingerprint(k.hash),
      class: t.class,
      reason: t.reason,
      next_step: t.next_step,
      use,
    };
  });
  const withOld = decision.assignments.filter((a) => internals.oldKeys.has(a.account.oldKeyHash)).length;
  const accounts = decision.assignments.map((a) => ({
    account_id: a.account.id,
    name: a.account.name,
    group_id: a.account.groupId,
    why: a.why,
    host_status: a.account.status,
    schedulable: a.account.schedulable,
    paused_by: a.pausedBy,
    old_key: fingerprint(a.account.oldKeyHash),
    new_key: a.key?.mask ?? null,
    new_key_fingerprint: a.key ? fingerprint(a.key.hash) : null,
    new_key_line: a.key?.line ?? null,
    after_success: resumeAfterRotation(a.pausedBy)
      ? "schedulable again"
      : a.pausedBy === "person"
        ? "left paused: a person paused it"
        : "stays schedulable",
    on_failure: internals.oldKeys.has(a.account.oldKeyHash)
      ? ("old_key_restored" as const)
      : ("left_paused_on_new_key" as const),
  }));
  const warnings: string[] = [];
  const without = accounts.length - withOld;
  if (without > 0)
    warnings.push(
      `${without} account(s) have no old key in --old-keys-file: if the new key fails its account test there, the account is left on the new key and paused (relay keeps no key to put back)`,
    );
  const body = {
    host_id: host.id,
    host_name: host.name,
    host_version: host.version,
    provider_id: req.providerId,
    pack_version: packVersion,
    accounts_selector: Array.isArray(req.accounts) ? req.accounts.join(",") : (req.accounts ?? "revoked"),
    max_parallel: req.maxParallel ?? 1,
    smoke_model: smokeModel,
    accounts,
    new_keys: newKeys,
    triage: {
      counts: classCounts(newKeys.map((k) => k.class)),
      groups: triageGroups(
        keys.map((k) => ({ key: k.mask, line: k.line, triage: triage.get(k.position) ?? null })),
      ),
    },
    summary: {
      chosen: accounts.length,
      ready_keys: keys.filter((k) => k.ready).length,
      with_old_key: withOld,
      spare_keys: decision.spare.length,
    },
    blocked: decision.blockedReasons.length > 0,
    blocked_reasons: [...decision.blockedReasons],
    warnings,
  };
  return {
    ...body,
    fingerprint: createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 32),
  };
}
