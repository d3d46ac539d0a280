import { createHash } from "node:crypto";
import { logicalKey, madeByUs, parseOwnership } from "./naming.js";
import type { ResourceState, ResourceType } from "./resources.js";

/**
 * The import plan, decided purely: what relay recorded and what the host shows, for a list of
 * keys, give one action per resource and per key. No I/O: preview reads, this decides.
 */
export type Action = "create" | "reuse" | "conflict" | "skip";

export interface SubscriptionTarget {
  userId: number;
  days?: number;
}

export type SharedResourceType = "group" | "channel" | "plan";

export interface PlannedResource {
  type: SharedResourceType;
  name: string;
  action: Action;
  reason: string;
  host_resource_id: number | null;
}

export interface PlannedKey {
  position: number;
  line: number;
  key: string;
  action: Action;
  reason: string;
  account_name: string;
  host_resource_id: number | null;
}

export interface PlannedSubscription {
  user_id: number;
  validity_days: number;
  action: Action;
  reason: string;
}

export interface PlanSummary {
  keys: number;
  create: number;
  reuse: number;
  conflict: number;
  skip: number;
  duplicates: number;
  ignored_lines: number;
  malformed: number;
}

/** A batch's summary: the plan's counts, then what the import made of them. */
export type BatchSummary = PlanSummary & { working?: number; failed?: number; skipped?: number };

/** The summary of a batch that planned no import (a rotation of `keys` keys, a migration, a restore adoption). */
export function summaryOfKeys(keys = 0): PlanSummary {
  return { keys, create: 0, reuse: 0, conflict: 0, skip: 0, duplicates: 0, ignored_lines: 0, malformed: 0 };
}

/** A recorded resource, as much of it as the decision needs. */
export interface RecordedRef {
  state: ResourceState;
  hostResourceId: number | null;
  batchId: string | null;
  name: string;
}

/** A host resource that may carry relay's ownership tag. */
export interface ObservedRef {
  id: number;
  name: string;
  /** The description or notes, where relay writes its tag. */
  tag?: string | undefined;
  /** What else of it the plan's fingerprint covers (a group's status, a channel's groups). */
  detail?: unknown;
}

export interface Observed {
  group?: ObservedRef | undefined;
  channel?: ObservedRef | undefined;
  plan?: ObservedRef | undefined;
  /** The provider's accounts on the host, by name. */
  accounts: Map<string, ObservedRef>;
  /** Subscriptions of the observed group. */
  subscriptions: { userId: number; status: string }[];
  /** Subscription targets the host has no user for. */
  missingUsers?: number[];
}

export interface KeyRef {
  position: number;
  line: number;
  hash: string;
  mask: string;
  malformed: boolean;
}

export interface PlanOptions {
  providerId: string;
  /** This installation: only what its names or tags mark is ever adopted. */
  installId: string;
  generation: number;
  mode: "strict" | "partial";
  names: Record<SharedResourceType, string>;
  accountName: (keyHash: string) => string;
  /** Why a shared resource is not wanted at all (absent when it is). */
  notWanted: Partial<Record<SharedResourceType, string>>;
  /** Whether a plan was asked for (`--with-plan`). */
  withPlan: boolean;
  subscriptionGroup: boolean;
  defaultDays: number;
  subscribe: SubscriptionTarget[];
  intake: { duplicates: number; ignoredLines: number; malformed: number };
}

export interface PlanDecision {
  resources: PlannedResource[];
  keys: PlannedKey[];
  subscriptions: PlannedSubscription[];
  summary: PlanSummary;
  blockedReasons: string[];
  /** Every key is malformed or conflicts: bad input, not a conflict to wait out. */
  noUsableKey: boolean;
}

const isLive = (r: RecordedRef | undefined): r is RecordedRef =>
  r !== undefined && (r.state === "created" || r.state === "reused");

export function decidePlan(
  recorded: Map<string, RecordedRef>,
  observed: Observed,
  keys: KeyRef[],
  o: PlanOptions,
): PlanDecision {
  const blockedReasons: string[] = [];
  const lookup = (type: ResourceType, id?: string) =>
    recorded.get(`${type}|${logicalKey(o.generation, type, id)}`);
  const resources: PlannedResource[] = [];
  const shared: SharedResourceType[] = o.withPlan ? ["group", "channel", "plan"] : ["group", "channel"];
  for (const type of shared) {
    const r = decideShared(type, o.names[type], lookup(type), observed[type], o);
    resources.push(r.planned);
    if (r.blocked) blockedReasons.push(r.blocked);
  }
  const plannedKeys = keys.map((k) => decideKey(k, lookup("account", k.hash), observed, o));
  if (o.mode === "strict" && plannedKeys.some((k) => k.action === "conflict"))
    blockedReasons.push("strict mode: some keys conflict with accounts on the host");
  const noUsableKey = plannedKeys.every((k) => k.action === "skip" || k.action === "conflict");
  if (noUsableKey) blockedReasons.push("no key can be imported");
  const subscriptions = o.subscribe.map((t) => decideSubscription(t, observed, o));
  const missing = subscriptions.filter((s) => s.action === "conflict").map((s) => s.user_id);
  if (o.mode === "strict" && missing.length > 0)
    blockedReasons.push(
      `strict mode: subscription target user(s) ${missing.join(", ")} do not exist on the host`,
    );
  const all = [...resources.map((r) => r.action), ...plannedKeys.map((k) => k.action)];
  const count = (a: Action) => all.filter((x) => x === a).length;
  return {
    resources,
    keys: plannedKeys,
    subscriptions,
    blockedReasons,
    noUsableKey,
    summary: {
      keys: plannedKeys.length,
      create: count("create"),
      reuse: count("reuse"),
      conflict: count("conflict"),
      skip: count("skip"),
      duplicates: o.intake.duplicates,
      ignored_lines: o.intake.ignoredLines,
      malformed: o.intake.malformed,
    },
  };
}

function decideShared(
  type: SharedResourceType,
  name: string,
  row: RecordedRef | undefined,
  onHost: ObservedRef | undefined,
  o: PlanOptions,
): { planned: PlannedResource; blocked?: string } {
  const planned = (action: Action, reason: string, id: number | null): PlannedResource => ({
    type,
    name,
    action,
    reason,
    host_resource_id: id,
  });
  const unwanted = o.notWanted[type];
  if (unwanted) return { planned: planned("skip", unwanted, null) };
  if (isLive(row) && onHost && row.hostResourceId === onHost.id)
    return { planned: planned("reuse", `recorded by batch ${row.batchId}`, onHost.id) };
  if (isLive(row))
    return {
      planned: planned(
        "conflict",
        `recorded ${type} #${row.hostResourceId} is missing on the host; run \`relay provider reconcile\``,
        row.hostResourceId,
      ),
      blocked: `${type} ${name} is recorded but missing on the host`,
    };
  if (!onHost) return { planned: planned("create", "not on the host yet", null) };
  if (madeByUs(onHost.name, onHost.tag, o.installId, o.providerId))
    return { planned: planned("reuse", `adopting ${type} ${leftBy(onHost)}`, onHost.id) };
  return {
    planned: planned(
      "conflict",
      `a ${type} named "${name}" exists on the host and is not managed by relay`,
      onHost.id,
    ),
    blocked: `${type} name "${name}" is taken on the host`,
  };
}

function decideKey(k: KeyRef, row: RecordedRef | undefined, observed: Observed, o: PlanOptions): PlannedKey {
  const name = o.accountName(k.hash);
  const planned = (action: Action, reason: string, id: number | null): PlannedKey => ({
    position: k.position,
    line: k.line,
    key: k.mask,
    account_name: name,
    action,
    reason,
    host_resource_id: id,
  });
  if (k.malformed) return planned("skip", `does not match the provider's key_pattern (line ${k.line})`, null);
  const onHost = observed.accounts.get(row?.name ?? name);
  if (isLive(row)) {
    if (onHost && onHost.id === row.hostResourceId)
      return planned("reuse", `already imported by batch ${row.batchId}`, onHost.id);
    return planned(
      "create",
      `recorded account #${row.hostResourceId} is missing on the host; it will be re-created`,
      null,
    );
  }
  if (!onHost) return planned("create", "new key", null);
  if (madeByUs(onHost.name, onHost.tag, o.installId, o.providerId))
    return planned("reuse", `adopting account ${leftBy(onHost)}`, onHost.id);
  return planned("conflict", `an account named "${name}" exists and is not managed by relay`, onHost.id);
}

/** Where an orphan relay adopts came from: its batch where the tag survived, this installation otherwise. */
function leftBy(onHost: ObservedRef): string {
  const batch = parseOwnership(onHost.tag)?.batchId;
  return batch ? `left by batch ${batch}` : "left by this installation (its answer was lost)";
}

function decideSubscription(t: SubscriptionTarget, observed: Observed, o: PlanOptions): PlannedSubscription {
  const base = { user_id: t.userId, validity_days: t.days ?? o.defaultDays };
  if (!o.subscriptionGroup)
    return { ...base, action: "skip", reason: "the provider's group is not a subscription group" };
  if (observed.missingUsers?.includes(t.userId))
    return {
      ...base,
      action: "conflict",
      reason: `user ${t.userId} does not exist on the host; it will not be subscribed`,
    };
  if (observed.subscriptions.some((s) => s.userId === t.userId && s.status === "active"))
    return { ...base, action: "reuse", reason: "user already holds an active subscription to the group" };
  return { ...base, action: "create", reason: "assign a subscription" };
}

/**
 * The whole plan: what the host showed, which keys were given, and everything decided from them
 * and the request (pack version, mode, access mode, names, subscription targets and their days,
 * each resource's and key's action). An import given this fingerprint refuses to run when any of
 * it changed.
 */
export function planFingerprint(
  hostVersion: string | null,
  observed: Observed,
  keys: KeyRef[],
  decided: unknown = null,
): string {
  return createHash("sha256")
    .update(
      JSON.stringify({
        decided,
        version: hostVersion,
        group: observed.group ? [observed.group.id, observed.group.name, observed.group.detail] : null,
        channel: observed.channel ? [observed.channel.id, observed.channel.detail] : null,
        plan: observed.plan?.id ?? null,
        accounts: [...observed.accounts.values()].map((a) => [a.id, a.name]).sort(),
        keys: keys.map((k) => k.hash),
      }),
    )
    .digest("hex");
}

/**
 * The first JSON pointer where a reviewed plan's body differs from the plan its fingerprint binds
 * (the display name of the host aside), or undefined when it is that plan. Both are compared as
 * JSON, as a plan file holds them.
 */
export function editedAt(reviewed: unknown, fresh: unknown): string | undefined {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null)) as unknown;
  const strip = (v: unknown) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
    // The host's name is display; a preview's key triage is an observation the fingerprint does not bind.
    const { host_name: _display, key_triage: _triage, ...rest } = v as Record<string, unknown>;
    return rest;
  };
  return firstDifference(strip(plain(reviewed)), strip(plain(fresh)), "");
}

function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
    return a === b ? undefined : at || "/";
  if (Array.isArray(a) !== Array.isArray(b)) return at || "/";
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  for (const k of keys) {
    const d = firstDifference(ra[k], rb[k], `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    if (d !== undefined) return d;
  }
  return undefined;
}
