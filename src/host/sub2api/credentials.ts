import { isRecord } from "./json.js";

/**
 * sub2api's SensitiveCredentialKeys (service/account_credentials_redact.go:5-15@67380eafd): the
 * credential keys it never answers on redacting builds and keeps on an update that omits them.
 */
export const SENSITIVE_CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  "access_token",
  "refresh_token",
  "id_token",
  "agent_private_key",
  "api_key",
  "session_key",
  "cookie",
  "password",
  "sso_token",
  "sso",
  "sso-rw",
  "clearTextPassword",
  "aws_secret_access_key",
  "aws_session_token",
  "service_account_json",
  "service_account",
  "private_key",
]);

/**
 * The credential fields an update must send back to keep them (base_url, model_mapping, …). Dec
 * 2025 builds answer credentials as stored, key included: the sensitive keys are dropped here so
 * no key leaves the adapter.
 */
export function nonSensitiveCredentials(credentials: unknown): Record<string, unknown> {
  if (!isRecord(credentials)) return {};
  return Object.fromEntries(Object.entries(credentials).filter(([k]) => !SENSITIVE_CREDENTIAL_KEYS.has(k)));
}
