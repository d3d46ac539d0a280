import { desc, eq } from "drizzle-orm";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { type AccessEvidence, type AccessState, deriveAccessState, PROVEN_STATES } from "../domain/access.js";
import { notFound } from "../domain/errors.js";
import { fromHostError } from "../domain/host-errors.js";
import { groupName, logicalKey, ownershipTag } from "../domain/naming.js";
import { type GatewayResult, isHostError } from "../host/sub2api/index.js";
import { nowIso } from "../store/db.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { getProviderDefinition } from "../store/packs.js";
import {
  ensureInstall,
  findResource,
  getInstall,
  liveResources,
  recordIntent,
  setProviderStatus,
  updateResource,
} from "../store/resources.js";
import { accessClosureRecords, providerInstalls } from "../store/schema.js";
import { stmt } from "../store/statements.js";
import { ensureProbeIdentity } from "./probe-identity.js";

export interface AccessStatusView {
  host_id: string;
  provider_id: string;
  access_state: AccessState;
  reason: string;
  evidence: AccessEvidence & { group_id?: number; subscription_type?: string; probe_user?: string };
  gateway: {
    status: number;
    error_code: string | null;
    model: string | null;
    latency_ms: number;
    completion: string | null;
  } | null;
  provider_status: string;
  checked_at: string;
}

const PROBE_PROMPT = "Reply with the single word OK.";
/** Large enough for reasoning models, which spend tokens before answering. */
const PROBE_MAX_TOKENS = 512;

/**
 * Proves access with a real end-user call (design §6): the probe user, its own key bound to the
 * provider's group, `POST /v1/chat/completions` with the smoke model. Records the evidence and the
 * derived state; moves the provider to `active` only with a proven state.
 */
export async function runAccessProbe(
  ctx: AppContext,
  input: { hostRef: string; providerId: string; batchId?: string },
): Promise<AccessStatusView> {
  const host = findHost(ctx, input.hostRef);
  const { definition: def } = getProviderDefinition(ctx, input.providerId);
  const install = ensureInstall(ctx, host.id, def.provider_id);
  const gen = install.generation;
  const groupRow = findResource(ctx, host.id, def.provider_id, "group", logicalKey(gen, "group"));
  const caps = latestCapabilities(ctx, host.id);
  const evidence: AccessStatusView["evidence"] = {
    subscription: "not_applicable",
    selfService: "not_applicable",
  };
  let gateway: AccessStatusView["gateway"] = null;

  const finish = (batchId: string | null) =>
    record(ctx, host.id, def.provider_id, batchId, evidence, gateway);
  if (!groupRow || !["created", "reused"].includes(groupRow.state) || groupRow.hostResourceId === null) {
    evidence.unverifiable = `provider ${def.provider_id} is not imported on this host (no ${groupName(def.provider_id, gen)})`;
    return finish(input.batchId ?? null);
  }
  const groupId = groupRow.hostResourceId;
  const batchId = input.batchId ?? (groupRow.batchId as string);
  evidence.group_id = groupId;
  evidence.subscription_type = def.group_defaults.subscription_type;
  if (!caps.chat_completions) {
    evidence.unverifiable = "the host has no /v1/chat/completions (Dec 2025 build)";
    return finish(batchId);
  }
  const adapter = hostAdapterFor(ctx, host);
  try {
    const identity = await ensureProbeIdentity(ctx, host, adapter);
    if ("unverifiable" in identity) {
      evidence.unverifiable = identity.unverifiable;
      return finish(batchId);
    }
    evidence.probe_user = identity.email;
    const isSubscription = def.group_defaults.subscription_type === "subscription";
    if (isSubscription) {
      // Assign the probe user's subscription once; afterwards a missing subscription is a finding,
      // not something the probe quietly repairs.
      const lk = logicalKey(gen, "subscription", `probe:${identity.userId}`);
      const existing = findResource(ctx, host.id, def.provider_id, "subscription", lk);
      if (!existing || !["created", "reused"].includes(existing.state)) {
        const row = recordIntent(ctx, {
          hostId: host.id,
          providerId: def.provider_id,
          batchId,
          type: "subscription",
          logicalKey: lk,
          name: `probe-user-${identity.userId}`,
          idempotencyKey: `probe-${identity.userId}-${groupId}`,
          attrs: { user_id: identity.userId, group_id: groupId, probe: true },
        });
        const outcome = await adapter.assignSubscription({
          userId: identity.userId,
          groupId,
          validityDays: 36500,
          notes: ownershipTag(def.provider_id, row.batchId ?? ""),
        });
        if (outcome.kind === "assigned")
          updateResource(ctx, row.id, { hostResourceId: outcome.subscription.id, state: "created" });
        else updateResource(ctx, row.id, { state: "failed" });
      }
    } else {
      // The identity lookup already read the balance: no second user query.
      if (identity.balance <= 0)
        await adapter.setUserBalance(identity.userId, 5, `relay-probe-balance-${host.id}-${identity.userId}`);
    }
    const login = await adapter.login(identity.email, identity.password);
    if (login.kind === "blocked") {
      evidence.unverifiable = `the probe user cannot log in (${login.code})`;
      return finish(batchId);
    }
    const keyName = `relay-probe-${def.provider_id}-g${gen}`;
    let key = (await adapter.listUserKeys(login.session)).find(
      (k) => k.name === keyName && k.groupId === groupId && k.status === "active",
    );
    let bindError: string | undefined;
    if (!key) {
      try {
        key = await adapter.createUserKey(login.session, { name: keyName, groupId });
      } catch (err) {
        if (!isHostError(err) || err.kind !== "http") throw err;
        bindError = err.machineCode;
      }
    }
    let result: GatewayResult | undefined;
    if (key) {
      result = await adapter.chatCompletion(key.key, {
        model: def.smoke_test_model,
        messages: [{ role: "user", content: PROBE_PROMPT }],
        maxTokens: PROBE_MAX_TOKENS,
      });
      gateway = {
        status: result.status,
        error_code: result.errorCode ?? null,
        model: result.model ?? null,
        latency_ms: result.latencyMs,
        completion: result.content ? result.content.slice(0, 200) : null,
      };
    }
    const ok = result?.ok === true;
    const errorCode = bindError ?? result?.errorCode;
    if (errorCode) evidence.errorCode = errorCode;
    if (isSubscription) {
      evidence.subscription = ok ? "ok" : "failed";
      // Self-service on a subscription group: users can buy the subscription (a plan for sale on a
      // host with payments) and then bind their own key — as the probe user just did.
      const plan = liveResources(ctx, host.id, def.provider_id).find((r) => r.resourceType === "plan");
      if (plan && caps.plans) evidence.selfService = ok ? "ok" : "failed";
    } else {
      evidence.selfService = ok ? "ok" : "failed";
    }
    return finish(batchId);
  } catch (err) {
    throw fromHostError(err, host.baseUrl);
  }
}

function record(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  batchId: string | null,
  evidence: AccessStatusView["evidence"],
  gateway: AccessStatusView["gateway"],
): AccessStatusView {
  const { state, reason } = deriveAccessState(evidence);
  const now = nowIso(ctx);
  if (gateway) {
    stmt(
      ctx.db.$client,
      `INSERT INTO probe_results (host_id, provider_id, batch_id, kind, success, http_status, error_code, message, model, latency_ms, detail, created_at)
       VALUES (?, ?, ?, 'gateway', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      hostId,
      providerId,
      batchId,
      gateway.error_code ? 0 : 1,
      gateway.status,
      gateway.error_code,
      reason,
      gateway.model,
      gateway.latency_ms,
      "{}",
      now,
    );
  }
  ctx.db
    .insert(accessClosureRecords)
    .values({
      hostId,
      providerId,
      batchId,
      state,
      reason,
      evidence: { ...evidence, gateway },
      createdAt: now,
    })
    .run();
  const install = ensureInstall(ctx, hostId, providerId);
  ctx.db
    .update(providerInstalls)
    .set({ accessState: state, updatedAt: now })
    .where(eq(providerInstalls.id, install.id))
    .run();
  if (PROVEN_STATES.includes(state) && ["installed", "degraded", "active"].includes(install.status)) {
    setProviderStatus(ctx, hostId, providerId, "active", `access proven: ${reason}`);
  } else if (state === "broken" && ["installed", "active"].includes(install.status)) {
    setProviderStatus(ctx, hostId, providerId, "degraded", `access broken: ${reason}`);
  }
  return {
    host_id: hostId,
    provider_id: providerId,
    access_state: state,
    reason,
    evidence,
    gateway,
    provider_status: getInstall(ctx, hostId, providerId)?.status ?? "validated",
    checked_at: now,
  };
}

/** The last recorded access state, without calling the host. */
export function lastAccessStatus(ctx: AppContext, hostRef: string, providerId: string): AccessStatusView {
  const host = findHost(ctx, hostRef);
  const row = ctx.db
    .select()
    .from(accessClosureRecords)
    .where(eq(accessClosureRecords.hostId, host.id))
    .orderBy(desc(accessClosureRecords.id))
    .all()
    .find((r) => r.providerId === providerId);
  if (!row)
    throw notFound("NO_ACCESS_RECORD", `access of ${providerId} on ${host.name} was never checked`, {
      hint: "Run `relay access status` without --cached.",
    });
  const { gateway, ...evidence } = row.evidence as unknown as AccessStatusView["evidence"] & {
    gateway: AccessStatusView["gateway"];
  };
  return {
    host_id: host.id,
    provider_id: providerId,
    access_state: row.state as AccessState,
    reason: row.reason,
    evidence,
    gateway: gateway ?? null,
    provider_status: getInstall(ctx, host.id, providerId)?.status ?? "validated",
    checked_at: row.createdAt,
  };
}
