import type { HostClient, RequestSpec } from "./client.js";
import { type HostError, isHostError } from "./errors.js";
import { complianceFromLockError, getAdminVersion, getCompliance, getPublicSettings } from "./system.js";
import type {
  CapabilityReport,
  ComplianceStatus,
  HostBlocker,
  HostCapabilities,
  PublicSettings,
} from "./types.js";
import { Wire } from "./wire.js";

/** CN platforms the control plane knows how to use, probed one by one. */
export const CN_PLATFORMS = ["deepseek", "kimi", "zhipu", "minimax", "qwen"] as const;

type RouteState = "present" | "missing" | "step_up" | "rate_limited" | "locked";

const noCapabilities = (): HostCapabilities => ({
  groups: false,
  accounts: false,
  account_test: false,
  account_models: false,
  subscriptions: false,
  channels: false,
  plans: false,
  batch_create: false,
  batch_delete: false,
  models_sync: false,
  models_preview: false,
  chat_completions: false,
  user_login: false,
  user_keys: false,
  idempotency: false,
  cn_platforms: [],
});

/**
 * Probes what a host can do without changing anything on it (contract §13). Every probe is a read,
 * or a write the host must refuse at validation (a group without a name, an empty batch, a
 * non-numeric account id), so nothing is ever created. A route is present when the host answers
 * with one of its JSON bodies, and absent when it answers Gin's plain-text 404. An answer that
 * says nothing about the route (a 5xx, a dropped connection, a time-out — after the client's
 * retries) fails the whole probe: a report built from it would read less than the host has.
 */
export async function probeCapabilities(client: HostClient): Promise<CapabilityReport> {
  const blockers = new Set<HostBlocker>();
  let publicSettings: PublicSettings | undefined;
  try {
    publicSettings = await getPublicSettings(client);
  } catch (err) {
    // Older or locked-down builds may not expose public settings; the admin version still works.
    // A transient failure is no such answer: the probe fails rather than read less than there is.
    if (!isHostError(err) || isTransient(err)) throw err;
  }
  const found = await readVersion(client, publicSettings, blockers);
  const caps = noCapabilities();
  const report = (maxPageSize: number, compliance = found.compliance): CapabilityReport => ({
    version: found.version,
    versionSource: found.versionSource,
    capabilities: caps,
    blockers: [...blockers],
    publicSettings,
    compliance,
    maxPageSize,
  });
  // Every admin route answers 423/429 now; a later probe (after the operator acts) fills the matrix.
  if (blockers.size > 0) return report(100);

  const compliance = await getCompliance(client).catch((err) => {
    if (isHostError(err) && (err.status === 429 || err.status === 403)) return undefined;
    throw err;
  });
  const note = (state: RouteState): boolean => {
    if (state === "step_up") blockers.add("step_up_forbidden");
    if (state === "rate_limited") blockers.add("rate_limited");
    return state === "present";
  };
  const maxPageSize = await probeAdminRoutes(client, caps, note, publicSettings);
  for (const platform of CN_PLATFORMS) {
    if (await acceptsGroupPlatform(client, platform, note)) caps.cn_platforms.push(platform);
  }
  await probeUserRoutes(client, caps, publicSettings);
  // Idempotency-Key handling, the real batch create and /v1/chat/completions all arrived in
  // 0.1.104 (docs/host-compatibility.md); Dec 2025 builds have none of them and ignore the header.
  caps.idempotency = caps.chat_completions || compliance !== undefined || caps.batch_delete;
  return report(maxPageSize, compliance);
}

/** The admin version; with the compliance guard or the rate limiter in the way, what blocks, and the public version. */
async function readVersion(
  client: HostClient,
  publicSettings: PublicSettings | undefined,
  blockers: Set<HostBlocker>,
) {
  try {
    return { version: await getAdminVersion(client), versionSource: "admin" as const, compliance: undefined };
  } catch (err) {
    if (!isHostError(err)) throw err;
    let compliance: ComplianceStatus | undefined;
    if (err.status === 423 && err.is("ADMIN_COMPLIANCE_ACK_REQUIRED")) {
      blockers.add("compliance_ack_required");
      compliance = complianceFromLockError(err);
    } else if (err.status === 429) {
      blockers.add("rate_limited");
    } else {
      throw err; // bad key, unreachable, wrong shape: the caller reports it and stores nothing
    }
    return publicSettings?.version
      ? { version: publicSettings.version, versionSource: "public" as const, compliance }
      : { version: undefined, versionSource: undefined, compliance };
  }
}

/** The admin routes relay uses; returns the largest page size the host honours. */
async function probeAdminRoutes(
  client: HostClient,
  caps: HostCapabilities,
  note: (state: RouteState) => boolean,
  publicSettings: PublicSettings | undefined,
): Promise<number> {
  let maxPageSize = 100;
  // Asking for 1000 items tells the page-size limit: builds capped at 100 silently answer with 20.
  try {
    const data = await client.envelope(
      get("probe.groups", "/api/v1/admin/groups", { page: 1, page_size: 1000 }),
    );
    caps.groups = true;
    maxPageSize = Wire.of("probe.groups", data).optNum("page_size", 20) >= 1000 ? 1000 : 100;
  } catch (err) {
    caps.groups = note(classify(err));
  }
  const state = async (spec: RequestSpec) => note(await routeState(client, spec));
  const page = { page: 1, page_size: 1 };
  caps.accounts = await state(get("probe.accounts", "/api/v1/admin/accounts", { ...page, lite: true }));
  caps.subscriptions = await state(get("probe.subscriptions", "/api/v1/admin/subscriptions", page));
  caps.channels = await state(get("probe.channels", "/api/v1/admin/channels", page));
  // A plan is a storefront item; without the payment module it would grant nothing (contract §6).
  caps.plans =
    (await state(get("probe.plans", "/api/v1/admin/payment/plans", {}))) &&
    (publicSettings?.paymentEnabled ?? false);
  caps.account_test = await state(post("probe.account_test", "/api/v1/admin/accounts/probe/test", {}));
  caps.account_models = await state(get("probe.account_models", "/api/v1/admin/accounts/probe/models", {}));
  caps.models_sync = await state(
    post("probe.models_sync", "/api/v1/admin/accounts/probe/models/sync-upstream", {}),
  );
  caps.models_preview = await state(
    post("probe.models_preview", "/api/v1/admin/accounts/models/sync-upstream-preview", {}),
  );
  caps.batch_create = await state(
    post("probe.batch_create", "/api/v1/admin/accounts/batch", { accounts: [] }),
  );
  caps.batch_delete = await state(post("probe.batch_delete", "/api/v1/admin/accounts/batch-delete", {}));
  // The 23b5dd07 build gates the whole user tree behind TOTP step-up, which an API key never passes.
  await state(get("probe.users", "/api/v1/admin/users", page));
  return maxPageSize;
}

/** The gateway and the user API, as an end user meets them (no admin key). */
async function probeUserRoutes(
  client: HostClient,
  caps: HostCapabilities,
  publicSettings: PublicSettings | undefined,
) {
  const present = async (spec: RequestSpec) =>
    (await routeState(client, { ...spec, auth: { type: "none" } })) === "present";
  caps.chat_completions = await present(post("probe.chat_completions", "/v1/chat/completions", {}));
  const loginRoute = await present(post("probe.user_login", "/api/v1/auth/login", {}));
  caps.user_login =
    loginRoute &&
    !(publicSettings?.backendModeEnabled ?? false) &&
    !(publicSettings?.turnstileEnabled ?? false) &&
    !(publicSettings?.captchaEnabled ?? false);
  caps.user_keys = await present(get("probe.user_keys", "/api/v1/keys", { page: 1, page_size: 1 }));
}

/**
 * A group create without a name always fails validation, so nothing is created. Gin's validator
 * reports every failing field, so the message also names `Platform` when the platform is not in
 * the build's `oneof` list.
 */
async function acceptsGroupPlatform(
  client: HostClient,
  platform: string,
  note: (state: RouteState) => boolean,
): Promise<boolean> {
  try {
    await client.raw(post(`probe.platform.${platform}`, "/api/v1/admin/groups", { platform }));
    return true; // not expected: a nameless group must be refused; treat as accepted platform
  } catch (err) {
    if (!isHostError(err)) throw err;
    // Only the validator's answer tells; a 429 is the rate limiter's (a blocker), anything else
    // (5xx, network, time-out, an unexpected status) is no verdict and fails the probe.
    if (err.status === 429) return note("rate_limited");
    if (err.status !== 400) throw err;
    const text = err.message;
    return !(/Platform/.test(text) && /oneof/.test(text));
  }
}

async function routeState(client: HostClient, spec: RequestSpec): Promise<RouteState> {
  try {
    await client.raw(spec);
    return "present";
  } catch (err) {
    return classify(err);
  }
}

/** A failure that says nothing about the host's routes: it may pass if asked again. */
const isTransient = (err: HostError) =>
  err.kind === "network" || err.kind === "timeout" || (err.status !== undefined && err.status >= 500);

function classify(err: unknown): RouteState {
  if (!isHostError(err) || isTransient(err)) throw err;
  if (err.routeMissing) return "missing";
  if (err.status === 403 && err.is("STEP_UP_ADMIN_API_KEY_FORBIDDEN")) return "step_up";
  if (err.status === 429) return "rate_limited";
  if (err.status === 423) return "locked";
  return "present";
}

function get(operation: string, path: string, query: RequestSpec["query"]): RequestSpec {
  return { operation, method: "GET", path, query, retry: "read" };
}

function post(operation: string, path: string, body: unknown): RequestSpec {
  // Probe writes are refused by validation; retrying them is as safe as retrying a read.
  return { operation, method: "POST", path, body, retry: "read" };
}
