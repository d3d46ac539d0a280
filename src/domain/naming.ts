import { createHash } from "node:crypto";

/**
 * Names and ownership markers of everything relay creates on a host.
 *
 * The marker lives in the **name**, because every sub2api build stores names, while `notes` and
 * `description` are dropped by some (Dec 2025 accounts have no `notes`). A name encodes the
 * installation (`install id`: 8 hex digits generated once per relay database), the provider, the
 * generation and, for accounts, the key's fingerprint; so an exact lookup by name finds what a
 * create whose answer was lost made, and a second installation on the same host never meets a
 * name of the first. The generation is part of every name, so nothing is ever re-created under a
 * name a rolled-back resource had (hosts may keep soft-deleted names unique, contract §12).
 * The tag in `description`/`notes` repeats the marker with the batch, where the build keeps it.
 */
export const OWNER_TAG = "managed-by=sub2api-cn-relay-manager";
export const INSTALL_ID_RE = /^[0-9a-f]{8}$/;

export interface Ownership {
  installId: string | undefined;
  providerId: string;
  batchId: string;
}

export function ownershipTag(installId: string, providerId: string, batchId: string): string {
  return `${OWNER_TAG} install=${installId} provider=${providerId} batch=${batchId}`;
}

export function parseOwnership(text: string | undefined): Ownership | undefined {
  if (!text?.includes(OWNER_TAG)) return undefined;
  const install = /install=([0-9a-f]{8})\b/.exec(text)?.[1];
  const provider = /provider=([a-z0-9-]+)/.exec(text)?.[1];
  const batch = /batch=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  return provider && batch ? { installId: install, providerId: provider, batchId: batch } : undefined;
}

/** Group, channel and plan: `relay-<provider>-<install>-g<generation>`. */
export function groupName(providerId: string, installId: string, generation: number): string {
  return `relay-${providerId}-${installId}-g${generation}`;
}
export const channelName = groupName;
export const planName = groupName;

/** An account: `<provider>-<key fingerprint 8>-<install>[-g<generation>]`. */
export function accountName(
  providerId: string,
  keyHash: string,
  installId: string,
  generation: number,
): string {
  return `${providerId}-${keyHash.slice(0, 8)}-${installId}${generation > 1 ? `-g${generation}` : ""}`;
}

/** The probe user's own API key bound to the provider's group: `relay-probe-<provider>-<install>-g<generation>`. */
export function probeKeyName(providerId: string, installId: string, generation: number): string {
  return `relay-probe-${providerId}-${installId}-g${generation}`;
}

/**
 * relay's own probe user on a host (probe identity `auto`): `relay-probe-<host id>@relay.invalid`,
 * then `relay-probe-<host id>-g<n>@relay.invalid` after each removal (`relay host
 * remove-probe-user`). sub2api soft-deletes users, and a build whose unique index covers deleted
 * rows refuses an address a deleted user had (contract §12): a removed address is never reused.
 */
export function probeUserEmail(hostId: string, generation: number): string {
  const local = `relay-probe-${hostId.replace(/^host_/, "")}`;
  return `${local}${generation > 1 ? `-g${generation}` : ""}@relay.invalid`;
}

export interface NameMarker {
  kind: "shared" | "account" | "probe_key";
  providerId: string;
  installId: string;
  generation: number;
}

/** Reads the marker back out of a name relay gave; undefined for any other name. */
export function nameMarker(name: string): NameMarker | undefined {
  const probe = /^relay-probe-([a-z0-9][a-z0-9-]*)-([0-9a-f]{8})-g(\d+)$/.exec(name);
  if (probe)
    return {
      kind: "probe_key",
      providerId: probe[1] as string,
      installId: probe[2] as string,
      generation: Number(probe[3]),
    };
  // `-r<base36>`: a channel heal re-created under a new name (reconcile/heal.ts).
  const shared = /^relay-([a-z0-9][a-z0-9-]*)-([0-9a-f]{8})-g(\d+)(?:-r[0-9a-z]+)?$/.exec(name);
  if (shared)
    return {
      kind: "shared",
      providerId: shared[1] as string,
      installId: shared[2] as string,
      generation: Number(shared[3]),
    };
  const account = /^([a-z0-9][a-z0-9-]*)-[0-9a-f]{8}-([0-9a-f]{8})(?:-g(\d+))?$/.exec(name);
  if (account)
    return {
      kind: "account",
      providerId: account[1] as string,
      installId: account[2] as string,
      generation: account[3] ? Number(account[3]) : 1,
    };
  return undefined;
}

/**
 * Whether a host resource was made by this installation for this provider: its name carries the
 * marker, or (builds that keep it) its tag names this install.
 */
export function madeByUs(
  name: string,
  tag: string | undefined,
  installId: string,
  providerId: string,
): boolean {
  const m = nameMarker(name);
  if (m) return m.installId === installId && m.providerId === providerId;
  const t = parseOwnership(tag);
  return t !== undefined && t.installId === installId && t.providerId === providerId;
}

export function logicalKey(generation: number, type: string, id?: string): string {
  return `g${generation}:${type}${id === undefined ? "" : `:${id}`}`;
}

/** Idempotency-Key derived from (host, operation, resource): a retry after a crash sends the same key. */
export function idempotencyKey(hostId: string, operation: string, resource: string): string {
  return `relay-${createHash("sha256").update(`${hostId}\n${operation}\n${resource}`).digest("hex").slice(0, 40)}`;
}
