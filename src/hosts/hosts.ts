import { randomBytes } from "node:crypto";
import { reachabilityOf, recordProbeFailure } from "../app/axes.js";
import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import type { HostReachability } from "../domain/axes.js";
import { providerSupport } from "../domain/compat.js";
import { AppError, conflict, hintOf, invalidInput, isAppError } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { type Assessment, assessCapabilities } from "../domain/hosts.js";
import { HOST_NAME_RE } from "../domain/ids.js";
import { type CapabilityReport, type HostAdapter, isHostError } from "../host/sub2api/index.js";
import { callHost } from "../steps/host-call.js";
import { nowIso } from "../store/db.js";
import {
  findHost,
  forgetHost,
  hostNameTaken,
  hostsWithUrl,
  insertHost,
  latestSnapshot,
  listHostRows,
  liveResourceCount,
  markProbeAnswered,
  recordProbe,
  type SnapshotInput,
} from "../store/hosts.js";
import { currentProviderDefinitions } from "../store/packs.js";
import type { HostRow } from "../store/schema.js";
import { maskSecret, SECRET_PURPOSE } from "../util/secrets.js";
import { isEmailAddress, refuseLinkLocal, validateAdminKey, validateBaseUrl } from "./host-input.js";
export type ProbeIdentity = "auto" | "user" | "none";

export interface AddHostInput {
  name: string;
  baseUrl: string;
  adminKey: string;
  probeIdentity?: ProbeIdentity;
  /** With probe identity `user`: the operator's probe user (the password is stored encrypted). */
  probeUser?: { email: string; password: string };
}

/** What the API returns and `--json` prints for a host. Never contains the admin key. */
export interface HostView {
  host_id: string;
  name: string;
  base_url: string;
  version: string | null;
  status: "supported" | "unsupported";
  profile: string | null;
  status_reasons: Assessment["reasons"];
  warnings: Assessment["warnings"];
  capabilities: Record<string, unknown>;
  blockers: string[];
  probe_identity: ProbeIdentity;
  /**
   * The user access is proven with: relay's own (`auto`, created on the first proof; user_id null
   * until then) or the operator's (`user`). Never its password.
   */
  probe_user: { email: string; user_id: number | null; created_by_relay: boolean } | null;
  admin_key_hint: string;
  /** For each provider of the installed packs: whether this build can test and serve it, and how. */
  providers: ProviderSupportView[];
  /** This relay installation's id: part of the name of everything it creates on the host. */
  install_id: string;
  created_at: string;
  updated_at: string;
  last_probed_at: string | null;
  /** Whether the host answered its newest probe (`no`: it did not; a refusal is an answer). */
  reachable: HostReachability["reachable"];
  last_probe_ok_at: string | null;
  last_error: HostReachability["last_error"];
}

export interface ProviderSupportView {
  provider_id: string;
  status: "supported" | "unsupported";
  mode: "native" | "fallback" | null;
  platform: string | null;
  reason_code: string | null;
  reason: string | null;
  first_working_version: string | null;
}

async function supportViews(ctx: AppContext, version: string | null, caps: Record<string, unknown>) {
  const facts = {
    version,
    caps: {
      cn_platforms: Array.isArray(caps.cn_platforms) ? (caps.cn_platforms as string[]) : [],
      chat_completions: caps.chat_completions === true,
    },
  };
  return (await currentProviderDefinitions(ctx)).map((def): ProviderSupportView => {
    const s = providerSupport(def, facts);
    return s.status === "supported"
      ? {
          provider_id: def.provider_id,
          status: s.status,
          mode: s.mode,
          platform: s.platform,
          reason_code: null,
          reason: null,
          first_working_version: null,
        }
      : {
          provider_id: def.provider_id,
          status: s.status,
          mode: null,
          platform: null,
          reason_code: s.code,
          reason: s.reason,
          first_working_version: s.firstWorking ?? null,
        };
  });
}

export async function addHost(ctx: AppContext, input: AddHostInput): Promise<HostView> {
  const name = input.name.trim();
  if (!HOST_NAME_RE.test(name)) {
    throw invalidInput("INVALID_HOST_NAME", `host name "${input.name}" is invalid`, {
      hint: "Use 1-63 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
    });
  }
  const baseUrl = validateBaseUrl(input.baseUrl, ctx.config.allowInsecureHosts);
  await refuseLinkLocal(baseUrl, ctx.config.allowLinkLocalHosts);
  const adminKey = validateAdminKey(input.adminKey);
  const probeIdentity = input.probeIdentity ?? "auto";
  if (probeIdentity === "user" && !input.probeUser) {
    throw invalidInput(
      "PROBE_USER_REQUIRED",
      "probe identity `user` needs the probe user's email and password",
      {
        hint: "Pass --probe-email and --probe-password-file (API: probe_user {email, password}).",
      },
    );
  }
  if (input.probeUser && !isEmailAddress(input.probeUser.email)) {
    // Not repeated: what failed may be a control character or a terminal escape.
    throw invalidInput("INVALID_PROBE_EMAIL", "the probe user's email is not an email address", {
      hint: "Give a plain address such as probe@example.com: ASCII letters, digits and . _ + - only, no spaces or control characters.",
    });
  }
  if (await hostNameTaken(ctx, name)) {
    throw conflict("HOST_EXISTS", `a host named "${name}" is already registered`, {
      hint: hint`Use ${act.hostProbe(name)} to refresh it.`,
    });
  }

  // The key is stored only after the host accepted it: probe first, persist second.
  const adapter = ctx.hostAdapter({ hostName: name, baseUrl, adminKey });
  const report = await probe(adapter, baseUrl, "the host was not registered");
  const assessment = assessCapabilities(report, probeIdentity);
  for (const twin of await hostsWithUrl(ctx, baseUrl)) {
    assessment.warnings.push({
      code: "SAME_URL",
      message: `host "${twin.name}" is registered with the same URL: one sub2api under two names is imported into and reconciled twice`,
      hint: `Use \`${twin.name}\`, or \`relay host remove ${name}\` if this was a mistake.`,
    });
  }
  const now = nowIso(ctx);
  const row: HostRow = {
    id: `host_${randomBytes(8).toString("hex")}`,
    name,
    baseUrl,
    authType: "admin_api_key",
    adminTokenSealed: ctx.secrets.seal(adminKey, SECRET_PURPOSE.adminToken),
    adminTokenHint: maskSecret(adminKey),
    probeIdentity,
    probeUserEmail: input.probeUser?.email ?? null,
    probeUserId: null,
    probePasswordSealed: input.probeUser
      ? ctx.secrets.seal(input.probeUser.password, SECRET_PURPOSE.probePassword)
      : null,
    version: report.version ?? null,
    status: assessment.status,
    statusReasons: assessment.reasons,
    createdAt: now,
    updatedAt: now,
    lastProbedAt: now,
  };
  await insertHost(ctx, row, snapshotRow(row.id, report, assessment, now));
  ctx.logger.info(
    { host_id: row.id, name, status: assessment.status, version: report.version },
    "host registered",
  );
  return await getHost(ctx, row.id);
}

export async function probeHost(ctx: AppContext, ref: string): Promise<HostView> {
  const row = await findHost(ctx, ref);
  const adapter = await hostAdapterFor(ctx, row);
  const kept = "the last snapshot is kept";
  const report = await probe(adapter, row.baseUrl, kept).catch(async (err: unknown) => {
    await recordProbeFailure(ctx, row, err);
    throw err;
  });
  // A rate limiter in the way is a passing state, not what the host is: a host probed before
  // keeps what it was last seen to be (a first probe records the blocker, with its hint).
  if (report.blockers.includes("rate_limited") && (await latestSnapshot(ctx, row.id)))
    throw new AppError(
      "host_rejected",
      "HOST_RATE_LIMITED",
      `${row.baseUrl} rate-limited the probe; ${kept}`,
      {
        hint: "Wait a minute and probe again, or exempt admins from the panel rate limit (settings → panel-rate-limit → exempt_admin).",
      },
    );
  const assessment = assessCapabilities(report, row.probeIdentity);
  await recordProbe(
    ctx,
    row.id,
    { version: report.version ?? row.version, status: assessment.status, statusReasons: assessment.reasons },
    snapshotRow(row.id, report, assessment, nowIso(ctx)),
  );
  ctx.logger.info({ host_id: row.id, status: assessment.status }, "host probed");
  return await getHost(ctx, row.id);
}

export async function listHosts(ctx: AppContext): Promise<HostView[]> {
  return Promise.all((await listHostRows(ctx)).map(async (row) => await toView(ctx, row)));
}

export async function getHost(ctx: AppContext, ref: string): Promise<HostView> {
  return await toView(ctx, await findHost(ctx, ref));
}

/**
 * The scheduler's probe, before each tick: one version read, so a host that stopped answering is
 * unreachable from this tick on (and one that answers again is back). A version that changed
 * takes a full probe, with a new capability snapshot.
 */
export async function checkHost(ctx: AppContext, ref: string): Promise<HostView> {
  const row = await findHost(ctx, ref);
  const adapter = await hostAdapterFor(ctx, row);
  const version = await asked(() => adapter.getVersion(), row.baseUrl, "nothing changed").catch(
    async (err: unknown) => {
      await recordProbeFailure(ctx, row, err);
      throw err;
    },
  );
  if (version.version !== row.version) return await probeHost(ctx, row.id);
  await markProbeAnswered(ctx, row.id);
  return await getHost(ctx, row.id);
}

/** The capability report; a probe that failed records nothing (`unrecorded` says what that means). */
function probe(adapter: HostAdapter, baseUrl: string, unrecorded: string): Promise<CapabilityReport> {
  return asked(() => adapter.probeCapabilities(), baseUrl, unrecorded);
}

async function asked<T>(call: () => Promise<T>, baseUrl: string, unrecorded: string): Promise<T> {
  try {
    return await callHost({ baseUrl }, call);
  } catch (mapped) {
    // A probe refines what the adapter's failure became: transient or not, and what was not recorded.
    const err = isAppError(mapped) ? mapped.cause : undefined;
    if (!isAppError(mapped) || !isHostError(err)) throw mapped;
    const transient = err.kind === "network" || err.kind === "timeout" || (err.status ?? 0) >= 500;
    throw new AppError(
      mapped.kind,
      transient && mapped.code === "HOST_ERROR" ? "HOST_UNAVAILABLE" : mapped.code,
      `the probe failed${transient ? " (a transient error, even after retries)" : ""}: ${mapped.message}; ${unrecorded}`,
      {
        details: mapped.details,
        hint: transient ? "Probe again when the host answers normally." : hintOf(mapped),
        cause: err,
      },
    );
  }
}

function snapshotRow(
  hostId: string,
  report: CapabilityReport,
  assessment: Assessment,
  now: string,
): SnapshotInput {
  return {
    hostId,
    version: report.version ?? null,
    profile: assessment.profile,
    status: assessment.status,
    capabilities: {
      ...report.capabilities,
      max_page_size: report.maxPageSize,
      version_source: report.versionSource ?? null,
    },
    blockers: report.blockers,
    reasons: assessment.reasons,
    warnings: assessment.warnings,
    probedAt: now,
  };
}

async function toView(ctx: AppContext, row: HostRow): Promise<HostView> {
  const snapshot = await latestSnapshot(ctx, row.id);
  return {
    host_id: row.id,
    name: row.name,
    base_url: row.baseUrl,
    version: row.version,
    status: row.status,
    profile: snapshot?.profile ?? null,
    status_reasons: row.statusReasons,
    warnings: snapshot?.warnings ?? [],
    capabilities: snapshot?.capabilities ?? {},
    blockers: snapshot?.blockers ?? [],
    providers: snapshot ? await supportViews(ctx, row.version, snapshot.capabilities) : [],
    probe_identity: row.probeIdentity,
    probe_user: row.probeUserEmail
      ? {
          email: row.probeUserEmail,
          user_id: row.probeUserId,
          created_by_relay: row.probeIdentity === "auto",
        }
      : null,
    admin_key_hint: row.adminTokenHint,
    install_id: ctx.installId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    last_probed_at: row.lastProbedAt,
    ...(await reachabilityOf(ctx, row)),
  };
}

export interface HostRemoval {
  host_id: string;
  name: string;
  /** Resources relay made that are still on the host and are now forgotten (only with force). */
  live_resources_forgotten: number;
}

/**
 * Removes a host from relay: its record and everything relay recorded about it. Refused while
 * relay's records say resources it made are live there (roll those batches back first); `force`
 * only forgets them — nothing is ever deleted on the host by this verb.
 */
export async function removeHost(
  ctx: AppContext,
  ref: string,
  options: { force?: boolean } = {},
): Promise<HostRemoval> {
  const row = await findHost(ctx, ref);
  const live = await liveResourceCount(ctx, row.id);
  if (live > 0 && !options.force) {
    throw conflict("HOST_IN_USE", `${live} resource(s) relay made are still live on ${row.name}`, {
      hint: hint`Roll back its batches first (${act.batchList(`--host ${row.name}`)}), or add --force to forget them (they stay on the host).`,
    });
  }
  await forgetHost(ctx, row.id);
  ctx.logger.warn({ host_id: row.id, name: row.name, live_resources_forgotten: live }, "host removed");
  return { host_id: row.id, name: row.name, live_resources_forgotten: live };
}

export { isLinkLocalOrMetadata, isLoopback, validateBaseUrl } from "./host-input.js";
