import type { CapabilityReport, HostCapabilities } from "../host/sub2api/types.js";
import { REQUIRED_CAPABILITIES } from "../host/sub2api/types.js";
import { LAST_VERIFIED_VERSION } from "./compat.js";
import { compareVersions, parseHostVersion } from "./pack/version-range.js";

export interface Reason {
  code: string;
  message: string;
  hint?: string;
}

export interface Assessment {
  status: "supported" | "unsupported";
  profile: "cn-native" | "openai-compat" | "legacy" | "unknown";
  reasons: Reason[];
  warnings: Reason[];
}

const REQUIRED_WHY: Record<(typeof REQUIRED_CAPABILITIES)[number], string> = {
  groups: "groups (/api/v1/admin/groups) hold each provider's accounts",
  accounts: "accounts (/api/v1/admin/accounts) carry the provider keys",
  account_test: "account tests (/api/v1/admin/accounts/:id/test) prove each key works",
  account_models: "account model listing (/api/v1/admin/accounts/:id/models) confirms the models served",
  subscriptions: "subscriptions (/api/v1/admin/subscriptions) grant users access",
};

/**
 * A build newer than the last one whose source was read is served by what the probe observes, with
 * a warning: its behaviour beyond that is assumed, not verified (docs/host-compatibility.md).
 */
function newerThanVerified(version: string | undefined): Reason | undefined {
  const v = version ? parseHostVersion(version) : undefined;
  if (!v || compareVersions(v, LAST_VERIFIED_VERSION) <= 0) return undefined;
  return {
    code: "HOST_NEWER_THAN_VERIFIED",
    message: `sub2api ${version} is newer than ${LAST_VERIFIED_VERSION.join(".")}, the last release whose source relay was checked against: relay serves it as the probe observes it, but changes after that release are not verified`,
    hint: "Watch the first import and reconcile on this host; report anything that differs.",
  };
}

/** Decides a host's status from a capability report. Pure: the same report always gives the same answer. */
export function assessCapabilities(
  report: CapabilityReport,
  probeIdentity: "auto" | "user" | "none",
): Assessment {
  const reasons: Reason[] = [];
  const warnings: Reason[] = [];
  const caps = report.capabilities;

  if (report.blockers.includes("compliance_ack_required")) {
    const url = report.compliance?.documentUrlEn;
    reasons.push({
      code: "COMPLIANCE_ACK_REQUIRED",
      message: `sub2api refuses every admin API call until an administrator accepts its compliance commitment${
        report.compliance?.version ? ` (${report.compliance.version})` : ""
      }`,
      hint: `An operator must read ${url ?? "the sub2api compliance document"} and accept it in the sub2api admin panel; then run \`relay host probe\` for this host. relay never accepts it on anyone's behalf.`,
    });
  }
  if (report.blockers.includes("step_up_forbidden")) {
    reasons.push({
      code: "STEP_UP_FORBIDDEN",
      message:
        "this sub2api build requires TOTP step-up for account and user administration, which an admin API key can never pass",
      hint: "Use a sub2api build without the mandatory step-up gate on account and user routes (the 23b5dd07 variant has it); API-key automation cannot work on this one.",
    });
  }
  if (report.blockers.includes("rate_limited")) {
    reasons.push({
      code: "RATE_LIMITED",
      message: "the host's panel rate limiter refused the probe (429)",
      hint: "Wait a minute and probe again, or exempt admins from the panel rate limit (settings → panel-rate-limit → exempt_admin).",
    });
  }
  if (report.blockers.length === 0) {
    for (const cap of REQUIRED_CAPABILITIES) {
      if (!caps[cap]) {
        reasons.push({
          code: "MISSING_CAPABILITY",
          message: `required capability \`${cap}\` is missing: ${REQUIRED_WHY[cap]}`,
          hint: "Upgrade sub2api to a build that has this route.",
        });
      }
    }
  }

  if (report.blockers.length === 0) warnings.push(...capabilityWarnings(caps, probeIdentity, report));
  const newer = newerThanVerified(report.version);
  if (newer) warnings.push(newer);
  return {
    status: reasons.length === 0 ? "supported" : "unsupported",
    profile: guessProfile(report),
    reasons,
    warnings,
  };
}

function capabilityWarnings(
  caps: HostCapabilities,
  probeIdentity: string,
  report: CapabilityReport,
): Reason[] {
  const w: Reason[] = [];
  if (!caps.chat_completions) {
    w.push({
      code: "NO_CHAT_COMPLETIONS",
      message:
        "the host has no /v1/chat/completions: provider resources can be created, but no end-user call can prove access, so access will be reported as not verifiable",
      hint: "Upgrade sub2api to a 2026 build to serve and prove OpenAI-compatible chat completions.",
    });
  }
  if (caps.groups && caps.cn_platforms.length === 0) {
    w.push({
      code: "NO_CN_PLATFORMS",
      message:
        "no CN platforms: providers will be created as platform `openai` accounts with force_chat_completions",
    });
  }
  if (!caps.channels)
    w.push({
      code: "NO_CHANNELS",
      message: "no channels: pack pricing cannot be applied; the host's global prices apply",
    });
  if (!caps.plans) {
    w.push({
      code: "NO_PLANS",
      message:
        report.publicSettings?.paymentEnabled === false
          ? "payment module disabled: no payment plans will be created"
          : "no payment plans on this host",
    });
  }
  if (!caps.batch_delete)
    w.push({
      code: "NO_BATCH_DELETE",
      message: "no account batch delete: rollbacks delete accounts one by one",
    });
  if (!caps.idempotency) {
    w.push({
      code: "NO_IDEMPOTENCY",
      message: "no Idempotency-Key support: failed account writes are never retried blindly",
    });
  }
  if (probeIdentity === "none") {
    w.push({
      code: "NO_PROBE_IDENTITY",
      message: "probe identity is `none`: access closure cannot be verified on this host",
    });
  } else if (!caps.user_login) {
    w.push({
      code: "USER_LOGIN_BLOCKED",
      message:
        "user login is blocked (backend mode or captcha): the probe user cannot log in, so access cannot be verified",
    });
  }
  return w;
}

function guessProfile(report: CapabilityReport): Assessment["profile"] {
  const caps = report.capabilities;
  if (report.blockers.length > 0) return "unknown";
  if (!caps.chat_completions) return "legacy";
  return caps.cn_platforms.length > 0 ? "cn-native" : "openai-compat";
}
