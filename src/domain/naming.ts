import { createHash } from "node:crypto";

/**
 * Deterministic names and the ownership tag written into every resource's description/notes.
 * A generation number is part of every name so that nothing is ever re-created under a name a
 * rolled-back resource had (hosts may keep soft-deleted names unique, contract §12).
 */
export const OWNER_TAG = "managed-by=sub2api-cn-relay-manager";

export function ownershipTag(providerId: string, batchId: string): string {
  return `${OWNER_TAG} provider=${providerId} batch=${batchId}`;
}

export function parseOwnership(
  text: string | undefined,
): { providerId: string; batchId: string } | undefined {
  if (!text?.includes(OWNER_TAG)) return undefined;
  const provider = /provider=([a-z0-9-]+)/.exec(text)?.[1];
  const batch = /batch=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  return provider && batch ? { providerId: provider, batchId: batch } : undefined;
}

export function groupName(providerId: string, generation: number): string {
  return `relay-${providerId}-g${generation}`;
}

export const channelName = groupName;
export const planName = groupName;

export function accountName(providerId: string, keyHash: string, generation: number): string {
  return `${providerId}-${keyHash.slice(0, 8)}${generation > 1 ? `-g${generation}` : ""}`;
}

export function logicalKey(generation: number, type: string, id?: string): string {
  return `g${generation}:${type}${id === undefined ? "" : `:${id}`}`;
}

/** Idempotency-Key derived from (host, operation, resource): a retry after a crash sends the same key. */
export function idempotencyKey(hostId: string, operation: string, resource: string): string {
  return `relay-${createHash("sha256").update(`${hostId}\n${operation}\n${resource}`).digest("hex").slice(0, 40)}`;
}
