import type { HostClient } from "./client.js";
import { HostError, isHostError } from "./errors.js";
import type { ComplianceStatus, PublicSettings } from "./types.js";
import { Wire } from "./wire.js";

export async function getAdminVersion(client: HostClient): Promise<string> {
  const data = await client.envelope({
    operation: "system.version",
    method: "GET",
    path: "/api/v1/admin/system/version",
    retry: "read",
  });
  return checkVersion(Wire.of("system.version", data).str("version"));
}

/** A version as sub2api reports one (`0.1.126`, `v0.1.27`, `0.1.105.36`, `0.1.179-rc1`), or a parse error. */
const VERSION_RE = /^v?\d{1,6}(\.\d{1,6}){1,3}([-+][0-9A-Za-z.-]{1,40})?$/;

export function checkVersion(raw: string): string {
  const version = raw.trim();
  if (!VERSION_RE.test(version)) {
    throw new HostError({
      kind: "parse",
      operation: "system.version",
      message: `system.version: the host reported a version that is not one (${version.length} characters)`,
    });
  }
  return version;
}

export async function getPublicSettings(client: HostClient): Promise<PublicSettings> {
  const data = await client.envelope({
    operation: "settings.public",
    method: "GET",
    path: "/api/v1/settings/public",
    auth: { type: "none" },
    retry: "read",
  });
  const w = Wire.of("settings.public", data);
  const raw = w.optStr("version");
  // A public version that is not one is left out (the admin version is the one relay relies on).
  const version = raw && VERSION_RE.test(raw.trim()) ? raw.trim() : undefined;
  return {
    ...(version ? { version } : {}),
    paymentEnabled: w.bool("payment_enabled", false),
    backendModeEnabled: w.bool("backend_mode_enabled", false),
    turnstileEnabled: w.bool("turnstile_enabled", false),
    // Login captchas a probe user cannot pass (public settings of captcha-enabled builds).
    captchaEnabled: w.bool("tencent_captcha_enabled", false) || w.bool("aliyun_captcha_enabled", false),
    registrationEnabled: w.bool("registration_enabled", false),
    totpEnabled: w.bool("totp_enabled", false),
  };
}

/** `undefined` when the build has no compliance guard (Dec 2025 builds). */
export async function getCompliance(client: HostClient): Promise<ComplianceStatus | undefined> {
  try {
    const data = await client.envelope({
      operation: "compliance.status",
      method: "GET",
      path: "/api/v1/admin/compliance",
      retry: "read",
    });
    const w = Wire.of("compliance.status", data);
    return {
      required: w.bool("required", false),
      ...optional("version", w.optStr("version")),
      ...optional("documentUrlEn", w.optStr("document_url_en")),
      ...optional("documentUrlZh", w.optStr("document_url_zh")),
    };
  } catch (err) {
    if (isHostError(err) && err.routeMissing) return undefined;
    throw err;
  }
}

/** Reads the compliance metadata of a 423 body, so the operator learns which document to accept. */
export function complianceFromLockError(err: HostError): ComplianceStatus {
  const m = err.metadata ?? {};
  const s = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : undefined);
  return {
    required: true,
    ...optional("version", s("version")),
    ...optional("documentUrlEn", s("document_url_en")),
    ...optional("documentUrlZh", s("document_url_zh")),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
