/**
 * The host adapter interface: every call the control plane makes to a sub2api host.
 * Domain shapes only; sub2api's wire types stay inside src/host/sub2api/.
 */

import type {
  ChatCompletionRequest,
  CreateUserInput,
  GatewayResult,
  HostUser,
  LoginOutcome,
  UserApiKey,
  UserSession,
} from "./user-types.js";

export type * from "./user-types.js";

export const REQUIRED_CAPABILITIES = [
  "groups",
  "accounts",
  "account_test",
  "account_models",
  "subscriptions",
] as const;
export const OPTIONAL_CAPABILITIES = [
  "channels",
  "plans",
  "batch_create",
  "batch_delete",
  "models_sync",
  "models_preview",
  "chat_completions",
  "user_login",
  "user_keys",
  "idempotency",
] as const;
export type CapabilityName = (typeof REQUIRED_CAPABILITIES)[number] | (typeof OPTIONAL_CAPABILITIES)[number];

export type HostCapabilities = Record<CapabilityName, boolean> & {
  /** CN platforms the host accepts for groups (`deepseek`, `kimi`, `zhipu`, `minimax`, `qwen`). */
  cn_platforms: string[];
};

export type HostBlocker = "compliance_ack_required" | "step_up_forbidden" | "rate_limited";

export interface PublicSettings {
  version?: string;
  paymentEnabled: boolean;
  backendModeEnabled: boolean;
  turnstileEnabled: boolean;
  captchaEnabled: boolean;
  registrationEnabled: boolean;
  totpEnabled: boolean;
}

export interface ComplianceStatus {
  required: boolean;
  version?: string;
  documentUrlEn?: string;
  documentUrlZh?: string;
}

export interface CapabilityReport {
  version: string | undefined;
  versionSource: "admin" | "public" | undefined;
  capabilities: HostCapabilities;
  blockers: HostBlocker[];
  publicSettings: PublicSettings | undefined;
  compliance: ComplianceStatus | undefined;
  /** Maximum page size the host honours (100 on Dec 2025 builds, 1000 later). */
  maxPageSize: number;
}

export type GroupPlatform = string;

export interface HostGroup {
  id: number;
  name: string;
  description: string;
  platform: GroupPlatform;
  status: string;
  subscriptionType: string;
  isExclusive: boolean;
  rateMultiplier: number;
  dailyLimitUsd: number | null;
  weeklyLimitUsd: number | null;
  monthlyLimitUsd: number | null;
  /**
   * The answer had no `subscription_type`: sub2api in `run_mode: simple` (≥ 0.2.4) answers a
   * reduced group shape (`simpleModeGroupResponse`) and makes every group standard.
   */
  reducedShape?: true;
}

export interface CreateGroupInput {
  name: string;
  description: string;
  platform: GroupPlatform;
  subscriptionType: "standard" | "subscription";
  rateMultiplier: number;
  isExclusive: boolean;
  dailyLimitUsd?: number | null;
  weeklyLimitUsd?: number | null;
  monthlyLimitUsd?: number | null;
}

export interface PricingEntry {
  platform: string;
  models: string[];
  /** USD per token (the host's unit). */
  inputPrice: number;
  outputPrice: number;
}

export interface HostChannel {
  id: number;
  name: string;
  description: string;
  status: string;
  groupIds: number[];
  modelPricing: PricingEntry[];
  modelMapping: Record<string, Record<string, string>>;
}

export interface CreateChannelInput {
  name: string;
  description: string;
  groupIds: number[];
  modelPricing: PricingEntry[];
  modelMapping?: Record<string, Record<string, string>>;
}

export interface HostPlan {
  id: number;
  groupId: number;
  name: string;
  description: string;
  price: number;
  currency: string | undefined;
  validityDays: number;
  validityUnit: string;
  forSale: boolean;
}

export interface CreatePlanInput {
  groupId: number;
  name: string;
  description: string;
  price: number;
  currency?: string;
  validityDays: number;
}

export interface HostAccount {
  id: number;
  name: string;
  notes: string;
  platform: string;
  type: string;
  status: string;
  schedulable: boolean;
  priority: number;
  concurrency: number;
  groupIds: number[];
  baseUrl: string | undefined;
  modelMapping: Record<string, string> | undefined;
  hasApiKey: boolean;
  /** The non-sensitive credential fields (base_url, model_mapping, …), never a key. */
  credentialFields: Record<string, unknown>;
  extra: Record<string, unknown>;
  errorMessage: string;
  /**
   * Runtime pauses the host sets without touching `status`/`schedulable` (RFC 3339 times; absent
   * when unset or on builds without them): low CN balance → temp-unschedulable; upstream 402/429
   * → rate-limited; overload. The scheduler skips the account until the time passes.
   */
  pause: {
    tempUnschedulableUntil?: string;
    tempUnschedulableReason?: string;
    rateLimitedAt?: string;
    rateLimitResetAt?: string;
    overloadUntil?: string;
  };
}

export interface CreateAccountInput {
  name: string;
  notes: string;
  platform: string;
  /** The provider key: sent to the host, never stored or logged by the control plane. */
  apiKey: string;
  baseUrl: string;
  apiProtocol?: "chat_completions";
  accountMode?: "payg" | "coding";
  modelMapping: Record<string, string>;
  extra?: Record<string, unknown>;
  concurrency: number;
  priority: number;
  groupIds: number[];
}

export interface BatchCreateResult {
  /** Per submitted account, by name. `verified` is false when the host gave no per-item result. */
  results: { name: string; success: boolean; id?: number; error?: string }[];
  verified: boolean;
}

/** Per account id of a batch call (delete, bulk update): done, or refused with the host's reason. */
export interface BatchResult {
  doneIds: number[];
  failed: { id: number; error: string }[];
}

export interface AccountTestResult {
  success: boolean;
  model: string | undefined;
  error: string | undefined;
  /** Text the model produced, truncated; helps operators read a failed test. */
  text: string;
  latencyMs: number;
}

export interface HostSubscription {
  id: number;
  userId: number;
  groupId: number;
  status: string;
  startsAt: string | undefined;
  expiresAt: string | undefined;
  notes: string;
}

export interface AssignSubscriptionInput {
  userId: number;
  groupId: number;
  validityDays: number;
  notes: string;
}

/**
 * `assigned`: the host holds an active subscription for (user, group) now; newer builds answer an
 * identical re-assign with the existing row. `conflict`: a different one exists (contract §8.2:
 * `SUBSCRIPTION_ASSIGN_CONFLICT` on newer builds, `SUBSCRIPTION_ALREADY_EXISTS` on Dec 2025 ones).
 */
export interface BulkAssignInput {
  userIds: number[];
  groupId: number;
  validityDays: number;
  notes: string;
}

/** Per user: the subscription the host holds now, or the host's reason for refusing that user. */
export interface BulkAssignResult {
  assigned: HostSubscription[];
  failed: { userId: number; reason: string }[];
}

export type AssignOutcome =
  | { kind: "assigned"; subscription: HostSubscription }
  | { kind: "conflict"; code: string; reason: string };

export interface ListQuery {
  search?: string;
  platform?: string;
  status?: string;
  groupId?: number;
  userId?: number;
}

export interface UpstreamPreviewInput {
  platform: string;
  baseUrl: string;
  apiKey: string;
}

/** One account's provider balance as the host read it (Kimi and DeepSeek pay-as-you-go only). */
export interface AccountBalance {
  /** Whether the host could read it; `error` says why not (a revoked key, a bad answer). */
  success: boolean;
  /** The main currency's balance (the first of `balances`). */
  balance: number;
  currency: string | undefined;
  balances: { currency: string; balance: number }[];
  /** DeepSeek's `is_available`; always true for Kimi. */
  available: boolean;
  /** Unix seconds. */
  fetchedAt: number;
  error: string | undefined;
}

export interface HostAdapter {
  readonly baseUrl: string;

  // system and capabilities
  getVersion(): Promise<{ version: string; source: "admin" | "public" }>;
  probeCapabilities(): Promise<CapabilityReport>;

  // groups
  listGroups(query?: ListQuery): Promise<HostGroup[]>;
  createGroup(input: CreateGroupInput): Promise<HostGroup>;
  deleteGroup(id: number): Promise<"deleted" | "already_gone">;

  // channels
  listChannels(query?: ListQuery): Promise<HostChannel[]>;
  createChannel(input: CreateChannelInput): Promise<HostChannel>;
  /** The channel's model_mapping, and its model_pricing when given (each replaced whole). */
  updateChannelModelMapping(
    id: number,
    modelMapping: HostChannel["modelMapping"],
    modelPricing?: HostChannel["modelPricing"],
  ): Promise<HostChannel>;
  deleteChannel(id: number): Promise<"deleted" | "already_gone">;

  // payment plans
  listPlans(): Promise<HostPlan[]>;
  createPlan(input: CreatePlanInput): Promise<HostPlan>;
  deletePlan(id: number): Promise<"deleted" | "already_gone">;

  // accounts
  listAccounts(query?: ListQuery): Promise<HostAccount[]>;
  createAccount(input: CreateAccountInput, idempotencyKey: string): Promise<HostAccount>;
  createAccountsBatch(inputs: CreateAccountInput[], idempotencyKey: string): Promise<BatchCreateResult>;
  updateAccountGroups(id: number, groupIds: number[]): Promise<HostAccount>;
  /** `PUT {credentials}`: omitted sensitive keys kept, omitted others dropped (send credentialFields). */
  updateAccountCredentials(id: number, credentials: Record<string, unknown>): Promise<HostAccount>;
  /** `POST /admin/accounts/:id/schedulable {schedulable}`: in or out of scheduling, nothing else. */
  setAccountSchedulable(id: number, schedulable: boolean): Promise<HostAccount>;
  /** `bulk-update` of group bindings only: the ids the host re-bound, and its reason for each other one. */
  bulkUpdateAccountGroups(ids: number[], groupIds: number[]): Promise<BatchResult>;
  deleteAccount(id: number): Promise<"deleted" | "already_gone">;
  deleteAccountsBatch(ids: number[]): Promise<BatchResult>;
  testAccount(id: number, modelId: string): Promise<AccountTestResult>;
  listAccountModels(id: number): Promise<string[]>;
  syncAccountModels(id: number): Promise<string[]>;
  /** Lists the upstream's models with credentials no account holds yet (0.1.134+): a key check before any write. */
  previewUpstreamModels(input: UpstreamPreviewInput): Promise<string[]>;
  /** The account's provider balance (0.1.178+); undefined on builds without the route. */
  getAccountBalance(id: number): Promise<AccountBalance | undefined>;

  // subscriptions
  listSubscriptions(query?: ListQuery): Promise<HostSubscription[]>;
  assignSubscription(input: AssignSubscriptionInput): Promise<AssignOutcome>;
  /** One call for many users with the same validity (every build, Dec 2025 included). */
  bulkAssignSubscriptions(input: BulkAssignInput): Promise<BulkAssignResult>;
  revokeSubscription(id: number): Promise<"revoked" | "already_gone">;
  /** Lengthens a subscription by `days` (every build), with a fresh Idempotency-Key per call. */
  extendSubscription(id: number, days: number): Promise<HostSubscription>;

  // users (admin side) and the user API
  findUserByEmail(email: string): Promise<HostUser | undefined>;
  createUser(input: CreateUserInput): Promise<HostUser>;
  getUser(id: number): Promise<HostUser | undefined>;
  resetUserPassword(id: number, password: string): Promise<HostUser>;
  /** Soft-deletes the user (and, 0.1.134+, its API keys); its subscriptions stay. 404 = already gone. */
  deleteUser(id: number): Promise<"deleted" | "already_gone">;
  setUserBalance(userId: number, balance: number, idempotencyKey: string): Promise<HostUser>;
  login(email: string, password: string): Promise<LoginOutcome>;
  listUserKeys(session: UserSession): Promise<UserApiKey[]>;
  createUserKey(session: UserSession, input: { name: string; groupId: number }): Promise<UserApiKey>;
  deleteUserKey(session: UserSession, id: number): Promise<"deleted" | "already_gone">;

  // gateway
  chatCompletion(userApiKey: string, request: ChatCompletionRequest): Promise<GatewayResult>;
}
