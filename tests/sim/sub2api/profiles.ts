/**
 * The three host profiles of design §3, each a lineage of real sub2api builds (contract §0):
 * - `cn-native`: 2026 builds with CN platforms (0035439 lineage);
 * - `openai-compat`: 2026 builds without CN platforms (a four-part version, as `0.1.105.36`);
 * - `legacy`: the Dec 2025 build (d3e73f1): no channels, plans, batch delete, models sync,
 *   compliance guard, idempotency or /v1/chat/completions; page size capped at 100; the batch
 *   create route is a placeholder that creates nothing.
 */
export type ProfileName = "cn-native" | "openai-compat" | "legacy";

export interface SimProfile {
  name: ProfileName;
  version: string;
  groupPlatforms: string[];
  /** Group platforms whose keys /v1/chat/completions routes to the OpenAI-compatible gateway. */
  chatPlatforms: string[];
  maxPageSize: number;
  compliance: boolean;
  channels: boolean;
  paymentPlans: boolean;
  batchCreateReal: boolean;
  batchDelete: boolean;
  modelsSync: boolean;
  chatCompletions: boolean;
  idempotency: boolean;
  credentialsRedacted: boolean;
  /** NEW: identical re-assign returns the existing row; OLD: 409 SUBSCRIPTION_ALREADY_EXISTS. */
  assignIdempotent: boolean;
  /** NEW: revoke is a soft delete listed as `revoked`; OLD: the row is deleted. */
  softRevoke: boolean;
  /** OLD has a plain UNIQUE(name) on groups, which also covers soft-deleted rows. */
  groupNameUniqueIncludesDeleted: boolean;
  groupSearch: boolean;
  accountGroupFilter: boolean;
  /**
   * Whether accounts keep `notes`. Dec 2025 builds have no such field: `CreateAccountRequest` at
   * d3e73f1 (backend/internal/handler/admin/account_handler.go:69-79) binds name, platform, type,
   * credentials, extra, proxy_id, concurrency, priority and group_ids only, so a tag sent in
   * `notes` is silently dropped.
   */
  accountNotes: boolean;
}

const BASE_PLATFORMS = ["anthropic", "openai", "gemini"];

export const PROFILES: Record<ProfileName, SimProfile> = {
  "cn-native": {
    name: "cn-native",
    version: "0.1.126",
    groupPlatforms: [
      ...BASE_PLATFORMS,
      "antigravity",
      "grok",
      "cursor",
      "kimi",
      "zhipu",
      "deepseek",
      "minimax",
      "opencode_go",
      "composite",
    ],
    chatPlatforms: ["openai", "grok", "kimi", "zhipu", "deepseek", "minimax", "opencode_go"],
    maxPageSize: 1000,
    compliance: true,
    channels: true,
    paymentPlans: true,
    batchCreateReal: true,
    batchDelete: true,
    modelsSync: true,
    chatCompletions: true,
    idempotency: true,
    credentialsRedacted: true,
    assignIdempotent: true,
    softRevoke: true,
    groupNameUniqueIncludesDeleted: false,
    groupSearch: true,
    accountGroupFilter: true,
    accountNotes: true,
  },
  "openai-compat": {
    name: "openai-compat",
    version: "0.1.105.36",
    groupPlatforms: [...BASE_PLATFORMS, "antigravity"],
    chatPlatforms: ["openai", "grok"],
    maxPageSize: 1000,
    compliance: true,
    channels: true,
    paymentPlans: true,
    batchCreateReal: true,
    batchDelete: true,
    modelsSync: true,
    chatCompletions: true,
    idempotency: true,
    credentialsRedacted: true,
    assignIdempotent: true,
    softRevoke: true,
    groupNameUniqueIncludesDeleted: false,
    groupSearch: true,
    accountGroupFilter: true,
    accountNotes: true,
  },
  legacy: {
    name: "legacy",
    version: "0.1.1",
    groupPlatforms: BASE_PLATFORMS,
    chatPlatforms: [],
    maxPageSize: 100,
    compliance: false,
    channels: false,
    paymentPlans: false,
    batchCreateReal: false,
    batchDelete: false,
    modelsSync: false,
    chatCompletions: false,
    idempotency: false,
    credentialsRedacted: false,
    assignIdempotent: false,
    softRevoke: false,
    groupNameUniqueIncludesDeleted: true,
    groupSearch: false,
    accountGroupFilter: false,
    accountNotes: false,
  },
};

export function isProfileName(value: string): value is ProfileName {
  return value in PROFILES;
}
