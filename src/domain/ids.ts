/**
 * The shapes of what relay's routes and commands name: its own ids, host names, pack and provider
 * ids. Defined once: the validators use them, and the HTTP access log keeps a path segment only
 * when it has the shape its route expects.
 */
export const HOST_ID_RE = /^host_[0-9a-f]{16}$/;
export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** A pack's or a provider's id (the pack format's `Id`). */
export const SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{1,62}$";
export const SLUG_RE = new RegExp(SLUG_PATTERN);
/** `b_<yyyymmdd>_<10 hex>`, as an import names its batch. */
export const BATCH_ID_RE = /^b_\d{8}_[0-9a-f]{10}$/;

/**
 * Whether a string looks like a credential rather than a name: a provider or admin key (`sk-…`,
 * `admin-…`), or a long run of mixed letters and digits, which no name relay gives or takes has.
 */
export function looksLikeSecret(s: string): boolean {
  if (/^(sk|ak|pk|rk|admin|key|token|bearer)[-_][A-Za-z0-9_-]{8,}/i.test(s)) return true;
  for (const run of s.match(/[A-Za-z0-9]{16,}/g) ?? [])
    if (run.length >= 24 || (/\d/.test(run) && /[A-Za-z]/.test(run))) return true;
  return false;
}
