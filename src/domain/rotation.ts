import { classifyTest } from "./health-policy.js";

/**
 * Key rotation in place (issue #28 item 2), decided purely: which of the accounts relay made are
 * rotated, which new key each gets, and what relay may do to its scheduling afterwards. The verb
 * (src/provision/rotate*.ts) observes the host and the records, calls these, and acts.
 */

/** Which accounts: the ones whose key is revoked, the ones out of balance, or these host ids. */
export type RotationSelector = "revoked" | "balance_empty" | number[];

/** Who holds an account out of scheduling, as relay can tell. */
export type PausedBy = "relay" | "host" | "person" | null;

export interface RotationCandidate {
  id: number;
  name: string;
  groupId: number | null;
  status: string;
  schedulable: boolean;
  errorMessage: string;
  /** temp_unschedulable_reason while the host holds it out for want of balance. */
  pauseReason?: string | undefined;
  /** relay's health-policy latch reason, when relay paused it. */
  latchReason: string | null;
  /** The keyed hash of the key relay gave it (never the key). */
  oldKeyHash: string;
}

export interface RotationKey {
  position: number;
  line: number;
  mask: string;
  hash: string;
  /** The new key's triage; only `ready` keys are used. */
  ready: boolean;
  /** Already the key of one of relay's accounts: never given to a second one. */
  inUseBy: number | null;
}

export interface RotationAssignment {
  account: RotationCandidate;
  /** Why it was chosen: its key's class, or "named". */
  why: "revoked" | "balance_empty" | "named";
  key: RotationKey | null;
  pausedBy: PausedBy;
}

export interface RotationDecision {
  assignments: RotationAssignment[];
  /** Named ids that are not accounts relay made for this provider on this host. */
  unknownIds: number[];
  /** Ready keys left over (more keys than accounts). */
  spare: RotationKey[];
  blockedReasons: string[];
}

/** What the host (or relay's latch) says about an account's key: revoked, out of balance, or neither. */
export function keyClassOf(c: RotationCandidate): "revoked" | "balance_empty" | null {
  const texts = [c.status === "error" ? c.errorMessage : "", c.pauseReason ?? "", c.latchReason ?? ""];
  for (const t of texts) {
    if (t === "") continue;
    if (/\bbalance_empty\b/.test(t)) return "balance_empty";
    if (/\brevoked\b/.test(t)) return "revoked";
    const cls = classifyTest(false, t);
    if (cls === "revoked" || cls === "balance_empty") return cls;
  }
  return null;
}

/**
 * Who holds it out: relay (its latch), the host (status error and unschedulable — sub2api's own
 * test takes an account out of scheduling on a 401 from 0.1.130, account_repo.go:1359-1365
 * @2bc139ab5), or a person (unschedulable, not in error, no latch of relay's).
 */
export function pausedBy(c: RotationCandidate): PausedBy {
  if (c.latchReason !== null) return "relay";
  if (c.schedulable) return null;
  return c.status === "error" ? "host" : "person";
}

/**
 * After a passing test of the new key: relay puts back in scheduling only what relay or the host
 * took out (a passing test restores the status but not `schedulable`, account_repo.go:1745-1750
 * @2bc139ab5); an account a person paused stays paused.
 */
export function resumeAfterRotation(p: PausedBy): boolean {
  return p === "relay" || p === "host";
}

/**
 * Chooses the accounts and gives each a ready key, in account-id order and key-file order. Fewer
 * ready keys than chosen accounts blocks the rotation (nothing half-done by surprise): add keys,
 * or name the accounts to rotate now.
 */
export function decideRotation(
  candidates: RotationCandidate[],
  keys: RotationKey[],
  selector: RotationSelector,
): RotationDecision {
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const unknownIds = Array.isArray(selector) ? selector.filter((id) => !byId.has(id)) : [];
  const chosen = Array.isArray(selector)
    ? [...new Set(selector)].flatMap((id) => {
        const c = byId.get(id);
        return c ? [{ c, why: "named" as const }] : [];
      })
    : candidates.flatMap((c) => (keyClassOf(c) === selector ? [{ c, why: selector }] : []));
  chosen.sort((a, b) => a.c.id - b.c.id);
  const usable = keys.filter((k) => k.ready && k.inUseBy === null);
  const assignments = chosen.map(({ c, why }, i) => ({
    account: c,
    why,
    key: usable[i] ?? null,
    pausedBy: pausedBy(c),
  }));
  const blockedReasons: string[] = [];
  if (unknownIds.length > 0)
    blockedReasons.push(
      `account(s) ${unknownIds.map((id) => `#${id}`).join(", ")} are not accounts relay made for this provider on this host`,
    );
  if (chosen.length === 0) blockedReasons.push("no account to rotate");
  if (usable.length < chosen.length)
    blockedReasons.push(
      `${chosen.length} account(s) chosen but only ${usable.length} ready new key(s): add ready keys, or name the accounts to rotate now with --accounts ID,ID`,
    );
  return { assignments, unknownIds, spare: usable.slice(chosen.length), blockedReasons };
}

/** Groups of at most `k` accounts of the same group: the order a rotation runs in. */
export function rotationWaves<T extends { account: { groupId: number | null } }>(
  items: T[],
  k: number,
): T[][] {
  const byGroup = new Map<number | null, T[]>();
  for (const i of items) byGroup.set(i.account.groupId, [...(byGroup.get(i.account.groupId) ?? []), i]);
  const waves: T[][] = [];
  for (const group of byGroup.values())
    for (let at = 0; at < group.length; at += k) waves.push(group.slice(at, at + k));
  return waves;
}
