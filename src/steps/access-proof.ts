import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { type AccessState, deriveAccessState, type ProofEvidence } from "../domain/access.js";
import { groupName, idempotencyKey, logicalKey, probeKeyName } from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import {
  type HostAdapter,
  isHostError,
  type LoginOutcome,
  type UserApiKey,
  type UserSession,
} from "../host/sub2api/index.js";
import { findHost, latestCapabilities } from "../store/hosts.js";
import { ensureInstall, refreshProviderState } from "../store/installs.js";
import { getProviderDefinition } from "../store/packs.js";
import { type GatewayRecord, recordAccessProof } from "../store/probes.js";
import { findResource, liveResources, recordIntent, updateResource } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { callHost } from "./host-call.js";
import { ensureProbeIdentity, type ProbeIdentity } from "./probe-identity.js";
import { assignAndRecord } from "./subscriptions.js";

export interface AccessStatusView {
  host_id: string;
  host_name: string;
  provider_id: string;
  access_state: AccessState;
  reason: string;
  evidence: ProofEvidence;
  gateway: GatewayRecord | null;
  provider_status: string;
  checked_at: string;
}

const PROBE_PROMPT = "Reply with the single word OK.";
/** Large enough for reasoning models, which spend tokens before answering. */
const PROBE_MAX_TOKENS = 512;

interface Probe {
  ctx: AppContext;
  host: HostRow;
  def: ProviderDefinition;
  adapter: HostAdapter;
  groupId: number;
  batchId: string;
  /** The batch that created the group: what the probe puts in the group goes with it. */
  groupBatchId: string;
  gen: number;
  /** The model the call asks for: the smoke model unless the caller names one (an old name after a migration). */
  model: string;
  evidence: ProofEvidence;
  gateway: GatewayRecord | null;
}

/**
 * What the probes of one reconcile pass over a host share: the probe user's identity, its login
 * and its key list are read once, not once per provider. Each provider's probe still binds its
 * own key and makes its own gateway call.
 */
export interface ProbeSessionCache {
  identity?: ReturnType<typeof ensureProbeIdentity>;
  login?: Promise<LoginOutcome>;
  keys?: Promise<UserApiKey[]>;
}

/** The shared answer, asked for once; a failure is not kept, so the next provider asks again. */
function shareOnce<K extends keyof ProbeSessionCache>(
  shared: ProbeSessionCache,
  key: K,
  ask: () => NonNullable<ProbeSessionCache[K]>,
): NonNullable<ProbeSessionCache[K]> {
  const existing = shared[key];
  if (existing) return existing as NonNullable<ProbeSessionCache[K]>;
  const asked = ask();
  shared[key] = asked;
  (asked as Promise<unknown>).catch(() => {
    if (shared[key] === asked) delete shared[key];
  });
  return asked;
}

/**
 * Proves access with a real end-user call (design §6): the probe user, its own key bound to the
 * provider's group, `POST /v1/chat/completions` with the smoke model. Records the evidence; the
 * provider's status and access state are then recomputed from it (active only when proven).
 */
export async function runAccessProbe(
  ctx: AppContext,
  input: { hostRef: string; providerId: string; batchId?: string; model?: string },
  shared: ProbeSessionCache = {},
): Promise<AccessStatusView> {
  const host = await findHost(ctx, input.hostRef);
  const { definition: def } = await getProviderDefinition(ctx, input.providerId);
  const gen = (await ensureInstall(ctx, host.id, def.provider_id)).generation;
  const groupRow = await findResource(ctx, host.id, def.provider_id, "group", logicalKey(gen, "group"));
  const evidence: ProofEvidence = { subscription: "not_applicable", selfService: "not_applicable" };
  const finish = async (batchId: string | null, gateway: GatewayRecord | null = null) =>
    await record(ctx, host.id, def.provider_id, batchId, evidence, gateway);
  if (!groupRow || !["created", "reused"].includes(groupRow.state) || groupRow.hostResourceId === null) {
    evidence.unverifiable = `provider ${def.provider_id} is not imported on this host (no ${groupName(def.provider_id, ctx.installId, gen)})`;
    return await finish(input.batchId ?? null);
  }
  const batchId = input.batchId ?? (groupRow.batchId as string);
  evidence.group_id = groupRow.hostResourceId;
  evidence.subscription_type = def.group_defaults.subscription_type;
  if (!(await latestCapabilities(ctx, host.id)).chat_completions) {
    evidence.unverifiable = "the host has no /v1/chat/completions (Dec 2025 build)";
    return await finish(batchId);
  }
  const p: Probe = {
    ctx,
    host,
    def,
    adapter: await hostAdapterFor(ctx, host),
    groupId: groupRow.hostResourceId,
    batchId,
    groupBatchId: groupRow.batchId ?? batchId,
    gen,
    model: input.model ?? def.smoke_test_model,
    evidence,
    gateway: null,
  };
  return await callHost(host, async () => {
    const identity = await shareOnce(shared, "identity", () => ensureProbeIdentity(ctx, host, p.adapter));
    if ("unverifiable" in identity) {
      evidence.unverifiable = identity.unverifiable;
      return await finish(batchId);
    }
    evidence.probe_user = identity.email;
    if (identity.created) evidence.probe_user_created = true;
    await grantProbeAccess(p, identity);
    await callThroughGateway(p, identity, shared);
    return await finish(batchId, p.gateway);
  });
}

/**
 * A subscription group: the probe user's subscription, assigned once (afterwards a missing one is
 * a finding, not something the probe quietly repairs). A standard group: a balance to spend.
 */
async function grantProbeAccess(p: Probe, identity: ProbeIdentity): Promise<void> {
  const { ctx, host, def, adapter } = p;
  if (def.group_defaults.subscription_type !== "subscription") {
    // The identity lookup already read the balance: no second user query.
    // One key per top-up: a fixed key would be replayed by the host for 24 h with its stale
    // answer, and the balance would stay empty (idempotency.go@3c800aaa, DefaultTTL).
    if (identity.balance <= 0)
      await adapter.setUserBalance(
        identity.userId,
        5,
        idempotencyKey(host.id, "probe.balance", `${identity.userId}:${randomBytes(8).toString("hex")}`),
      );
    return;
  }
  const lk = logicalKey(p.gen, "subscription", `probe:${identity.userId}`);
  const existing = await findResource(ctx, host.id, def.provider_id, "subscription", lk);
  if (existing && ["created", "reused"].includes(existing.state)) return;
  await assignAndRecord(ctx, adapter, {
    hostId: host.id,
    providerId: def.provider_id,
    batchId: p.groupBatchId,
    groupId: p.groupId,
    userId: identity.userId,
    validityDays: 36500,
    logicalKey: lk,
    name: `probe-user-${identity.userId}`,
    probe: true,
  });
}

/** Logs in as the probe user, binds its own key to the group and calls the gateway with it. */
async function callThroughGateway(
  p: Probe,
  identity: ProbeIdentity,
  shared: ProbeSessionCache,
): Promise<void> {
  const { adapter, def, evidence } = p;
  const login = await shareOnce(shared, "login", () => adapter.login(identity.email, identity.password));
  if (login.kind === "blocked") {
    evidence.unverifiable = `the probe user cannot log in (${login.code})`;
    return;
  }
  let key: UserApiKey | undefined;
  let bindError: string | undefined;
  try {
    const keys = await shareOnce(shared, "keys", () => adapter.listUserKeys(login.session));
    key = await ensureProbeKey(p, login.session, keys);
  } catch (err) {
    if (!isHostError(err) || err.kind !== "http") throw err;
    bindError = err.machineCode;
  }
  let ok = false;
  let errorCode = bindError;
  if (key) {
    const result = await adapter.chatCompletion(key.key, {
      model: p.model,
      messages: [{ role: "user", content: PROBE_PROMPT }],
      maxTokens: PROBE_MAX_TOKENS,
    });
    p.gateway = {
      status: result.status,
      error_code: result.errorCode ?? null,
      model: result.model ?? null,
      latency_ms: result.latencyMs,
      completion: result.content ? result.content.slice(0, 200) : null,
    };
    ok = result.ok;
    errorCode ??= result.errorCode;
  }
  if (errorCode) evidence.errorCode = errorCode;
  if (def.group_defaults.subscription_type === "subscription") {
    evidence.subscription = ok ? "ok" : "failed";
    // Self-service on a subscription group: users can buy the subscription (a plan for sale on a
    // host with payments) and then bind their own key — as the probe user just did.
    const plan = (await liveResources(p.ctx, p.host.id, def.provider_id)).some(
      (r) => r.resourceType === "plan",
    );
    if (plan && (await latestCapabilities(p.ctx, p.host.id)).plans)
      evidence.selfService = ok ? "ok" : "failed";
  } else {
    evidence.selfService = ok ? "ok" : "failed";
  }
}

/**
 * The probe user's own key bound to the group: a recorded resource of the batch that created the
 * group, so rolling that batch back deletes it. Recorded before it is created; one left by a lost
 * answer is found by its name and adopted.
 */
async function ensureProbeKey(p: Probe, session: UserSession, keys: UserApiKey[]): Promise<UserApiKey> {
  const { ctx, host, def, adapter } = p;
  const name = probeKeyName(def.provider_id, ctx.installId, p.gen);
  const row = await recordIntent(ctx, {
    hostId: host.id,
    providerId: def.provider_id,
    batchId: p.groupBatchId,
    type: "probe_key",
    logicalKey: logicalKey(p.gen, "probe_key"),
    name,
    idempotencyKey: idempotencyKey(host.id, "probe_key.create", `${name}:${p.groupBatchId}`),
    attrs: { group_id: p.groupId },
  });
  const existing = keys.find((k) => k.name === name && k.groupId === p.groupId && k.status === "active");
  const key = existing ?? (await adapter.createUserKey(session, { name, groupId: p.groupId }));
  if (row.hostResourceId !== key.id || row.state !== "created")
    await updateResource(ctx, row.id, { hostResourceId: key.id, state: "created" });
  return key;
}

async function record(
  ctx: AppContext,
  hostId: string,
  providerId: string,
  batchId: string | null,
  evidence: ProofEvidence,
  gateway: GatewayRecord | null,
): Promise<AccessStatusView> {
  const { state, reason } = deriveAccessState(evidence);
  const at = await recordAccessProof(ctx, {
    hostId,
    providerId,
    batchId,
    state,
    reason,
    evidence: { ...evidence },
    gateway,
  });
  const next = await refreshProviderState(ctx, hostId, providerId);
  return {
    host_id: hostId,
    host_name: (await findHost(ctx, hostId)).name,
    provider_id: providerId,
    access_state: state,
    reason,
    evidence,
    gateway,
    provider_status: next.status,
    checked_at: at,
  };
}
