import { createHash, randomBytes } from "node:crypto";

export interface SimUser {
  id: number;
  email: string;
  password: string;
  username: string;
  role: "admin" | "user";
  status: "active" | "disabled";
  balance: number;
  concurrency: number;
  allowedGroups: number[];
  notes: string;
  tokenVersion: number;
  deletedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface SimGroup {
  id: number;
  name: string;
  description: string;
  platform: string;
  rateMultiplier: number;
  isExclusive: boolean;
  status: "active" | "inactive";
  subscriptionType: "standard" | "subscription";
  dailyLimitUsd: number | null;
  weeklyLimitUsd: number | null;
  monthlyLimitUsd: number | null;
  deletedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface SimAccount {
  id: number;
  name: string;
  notes: string;
  platform: string;
  type: string;
  credentials: Record<string, unknown>;
  extra: Record<string, unknown>;
  concurrency: number;
  priority: number;
  status: "active" | "inactive" | "error";
  schedulable: boolean;
  errorMessage: string;
  /**
   * Runtime pauses that leave `status`/`schedulable` untouched (dto/types.go:223-230@67380eafd):
   * the scheduler skips the account until the time passes.
   */
  tempUnschedulableUntil?: number;
  tempUnschedulableReason?: string;
  rateLimitedAt?: number;
  rateLimitResetAt?: number;
  overloadUntil?: number;
  groupIds: number[];
  syncedModels?: string[];
  deletedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface SimPricing {
  id: number;
  platform: string;
  models: string[];
  billing_mode: string;
  input_price: number;
  output_price: number;
}

export interface SimChannel {
  id: number;
  name: string;
  description: string;
  status: "active" | "disabled";
  groupIds: number[];
  modelPricing: SimPricing[];
  modelMapping: Record<string, Record<string, string>>;
  restrictModels: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SimPlan {
  id: number;
  groupId: number;
  name: string;
  description: string;
  price: number;
  currency?: string;
  validityDays: number;
  validityUnit: string;
  forSale: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SimSubscription {
  id: number;
  userId: number;
  groupId: number;
  startsAt: number;
  expiresAt: number;
  status: "active" | "expired" | "suspended" | "revoked";
  /**
   * Set by a soft revoke or a soft group delete (`deleted_at`); the API shows such a row with status
   * `revoked` and `revoked_at` (repository/user_subscription_repo.go:635-642, dto/mappers.go:817@2bc139ab5).
   */
  revokedAt?: number;
  notes: string;
  assignedBy: number;
  createdAt: number;
  updatedAt: number;
}

export interface SimApiKey {
  id: number;
  userId: number;
  key: string;
  name: string;
  groupId: number | null;
  status: "active" | "inactive";
  deletedAt?: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * sub2api's idempotency record (backend/internal/service/idempotency.go@3c800aaa): `processing`
 * while the first request runs (locked for ProcessingTimeout, 30 s), `succeeded` with the stored
 * answer (replayed for DefaultTTL, 24 h), `failed_retryable` after an error (FailedRetryBackoff, 5 s).
 */
export interface IdempotencyRecord {
  payloadHash: string;
  state: "processing" | "succeeded" | "failed_retryable";
  lockedUntil: number;
  status: number;
  body: unknown;
}

/** The simulated host's database. Everything is in memory; ids are BIGSERIAL-like counters. */
export class SimState {
  adminApiKey: string;
  complianceAcknowledged: boolean;
  users = new Map<number, SimUser>();
  groups = new Map<number, SimGroup>();
  accounts = new Map<number, SimAccount>();
  channels = new Map<number, SimChannel>();
  plans = new Map<number, SimPlan>();
  subscriptions = new Map<number, SimSubscription>();
  apiKeys = new Map<number, SimApiKey>();
  idempotency = new Map<string, IdempotencyRecord>();
  /** JWT-like session tokens issued by /auth/login. */
  sessions = new Map<string, { userId: number; tokenVersion: number }>();
  #seq = new Map<string, number>();

  constructor(adminApiKey: string, complianceAcknowledged: boolean) {
    this.adminApiKey = adminApiKey;
    this.complianceAcknowledged = complianceAcknowledged;
    const now = Date.now();
    this.addUser({ email: "admin@sim.local", password: randomBytes(12).toString("hex"), role: "admin", now });
  }

  nextId(table: string): number {
    const next = (this.#seq.get(table) ?? 0) + 1;
    this.#seq.set(table, next);
    return next;
  }

  addUser(input: {
    email: string;
    password: string;
    role?: "admin" | "user";
    balance?: number;
    now?: number;
  }): SimUser {
    const now = input.now ?? Date.now();
    const user: SimUser = {
      id: this.nextId("users"),
      email: input.email,
      password: input.password,
      username: input.email.split("@")[0] ?? "",
      role: input.role ?? "user",
      status: "active",
      balance: input.balance ?? 0,
      concurrency: 5,
      allowedGroups: [],
      notes: "",
      tokenVersion: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.users.set(user.id, user);
    return user;
  }

  firstAdmin(): SimUser {
    const admin = [...this.users.values()].find((u) => u.role === "admin" && !u.deletedAt);
    if (!admin) throw new Error("simulator has no admin user");
    return admin;
  }

  liveGroups(): SimGroup[] {
    return [...this.groups.values()].filter((g) => !g.deletedAt);
  }

  liveAccounts(): SimAccount[] {
    return [...this.accounts.values()].filter((a) => !a.deletedAt);
  }

  liveKeys(): SimApiKey[] {
    return [...this.apiKeys.values()].filter((k) => !k.deletedAt);
  }

  /** An active, unexpired subscription of the user to the group. */
  activeSubscription(userId: number, groupId: number, now = Date.now()): SimSubscription | undefined {
    return [...this.subscriptions.values()].find(
      (s) => s.userId === userId && s.groupId === groupId && s.status === "active" && s.expiresAt > now,
    );
  }

  /** Group delete cascade (contract §4.3): subscriptions deleted, keys unbound, bindings dropped. */
  deleteGroupCascade(group: SimGroup, now = Date.now(), keepKeysBound = false) {
    group.deletedAt = now;
    // Soft group delete sets the subscriptions' deleted_at (group_repo.go:869@2bc139ab5): they stay
    // in the unfiltered admin list as revoked. Older builds delete them.
    for (const s of [...this.subscriptions.values()]) {
      if (s.groupId !== group.id) continue;
      if (!keepKeysBound) this.subscriptions.delete(s.id);
      else if (s.status !== "revoked")
        Object.assign(s, { status: "revoked", revokedAt: now, updatedAt: now });
    }
    if (!keepKeysBound) for (const k of this.apiKeys.values()) if (k.groupId === group.id) k.groupId = null;
    for (const u of this.users.values()) u.allowedGroups = u.allowedGroups.filter((id) => id !== group.id);
    for (const a of this.accounts.values()) a.groupIds = a.groupIds.filter((id) => id !== group.id);
    for (const ch of this.channels.values()) ch.groupIds = ch.groupIds.filter((id) => id !== group.id);
  }

  /** Counts of live resources, for tests that assert "nothing left on the host". */
  liveCounts() {
    return {
      groups: this.liveGroups().length,
      accounts: this.liveAccounts().length,
      channels: this.channels.size,
      plans: this.plans.size,
      subscriptions: [...this.subscriptions.values()].filter((s) => s.status === "active").length,
      users: [...this.users.values()].filter((u) => !u.deletedAt).length,
      apiKeys: this.liveKeys().length,
    };
  }
}

export function payloadHash(body: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(body ?? null))
    .digest("hex");
}

export function generateAdminKey(): string {
  return `admin-${randomBytes(32).toString("hex")}`;
}
