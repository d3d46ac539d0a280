/**
 * Host profiles, each a real sub2api release (docs/host-compatibility.md has the source lines):
 * - `dec-2025`: the Dec 2025 tag builds (d3e73f1 lineage, release version 0.1.27): no channels,
 *   plans, batch delete, models sync, compliance guard, idempotency or /v1/chat/completions; page
 *   size capped at 100; the batch create route is a placeholder; account tests go to /v1/responses.
 * - `v0.1.126` (62ccd0ff): chat completions exist but OpenAI-platform chat is converted to the
 *   Responses API (`openai_responses_mode` is unknown before 0.1.127); no CN platforms.
 * - `v0.1.150`: a 0.1.130–0.1.169 build: the OpenAI fallback works; no CN platforms; no batch
 *   delete (0.1.170); version directories such as `/api/paas/v4` are joined as
 *   `/api/paas/v4/chat/completions` (from 0.1.127: `openai_endpoint_url.go:8-19@63b0631a`).
 * - `v0.1.178` (49504adc): kimi, zhipu, deepseek platforms, but their account test falls through to
 *   the Claude test ({base}/v1/messages → 404); version-directory joining
 *   (`openai_endpoint_url.go:8-28@49504adc9`).
 * - `v0.1.179` (2bc139ab): CN accounts tested at the joined chat URL.
 * - `v0.2.4`: as far as the Dec 2026 review could read it (no commit pinned; PR descriptions and an
 *   undated index copy of group_handler.go@02c82a9a): the group `oneof` adds grok, cursor, minimax,
 *   opencode_go, composite; `models_list_config` is renamed `model_allowlist` (sub2api-plus PR #83;
 *   relay sends neither); `run_mode: simple` can be set (`CreateSimOptions.runMode`). Everything
 *   else is the 0.1.179 behaviour.
 * The design's category names are aliases: `cn-native` = v0.1.179, `openai-compat` = v0.1.150,
 * `legacy` = dec-2025.
 */
export type ReleaseName = "dec-2025" | "v0.1.126" | "v0.1.150" | "v0.1.178" | "v0.1.179" | "v0.2.4";
export type ProfileName = ReleaseName | "cn-native" | "openai-compat" | "legacy";

export interface SimProfile {
  name: ReleaseName;
  version: string;
  /** How an OpenAI-platform account's chat reaches the upstream: always as Responses, or per `openai_responses_mode`. */
  openaiChat: "responses_always" | "mode_flag";
  /** OpenAI-platform account test: Responses API, or the chat endpoint when the account is in chat mode. */
  openaiTest: "responses" | "per_mode";
  /** CN-platform account test: the Claude test (0.1.178's bug) or the joined chat URL. */
  cnTest: "claude" | "chat";
  /** `v1_only` (≤ 0.1.126): `/chat/completions` only after a base ending in /v1; `version_dir` (0.1.127+): after any /vN. */
  urlJoin: "v1_only" | "version_dir";
  /** `POST /admin/accounts/models/sync-upstream-preview` (0.1.134+). */
  modelsPreview: boolean;
  /** `GET /admin/cn-providers/accounts/:id/balance` (0.1.178+, routes/admin.go:489-497@67380eafd). */
  cnBalance?: boolean;
  /**
   * Group delete from 0.1.129: the group and its subscriptions are soft-deleted and API keys stay
   * bound (the gateway answers 403 GROUP_DELETED); older builds unbind the keys.
   */
  groupSoftDelete: boolean;
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
  /** A 401 in an account test also sets `schedulable=false` (0.1.130+, SetError); earlier, status only. */
  testErrorUnschedules: boolean;
  /** `run_mode: simple` exists (≥ 0.2.4): group creates become standard, groups answer a reduced shape. */
  simpleModeAvailable: boolean;
  /**
   * Deleting a user also soft-deletes its API keys, in one transaction (0.1.134+, 705fe7d88:
   * `service/admin_user.go:361-364,422-440`, `repository/api_key_repo.go:375-420` @67380eafd);
   * before, only the user (`service/admin_service.go:360-370` @d3e73f1).
   */
  userDeleteTakesKeys: boolean;
}

const BASE_PLATFORMS = ["anthropic", "openai", "gemini"];

/** The 2026 lineage from 0.1.104 on: idempotency, real batch create, chat completions, notes. */
const LINEAGE_2026 = {
  maxPageSize: 1000,
  channels: true,
  paymentPlans: true,
  batchCreateReal: true,
  chatCompletions: true,
  idempotency: true,
  credentialsRedacted: true,
  assignIdempotent: true,
  softRevoke: true,
  groupNameUniqueIncludesDeleted: false,
  groupSearch: true,
  accountGroupFilter: true,
  accountNotes: true,
  testErrorUnschedules: true,
  simpleModeAvailable: false,
  userDeleteTakesKeys: true,
} as const;

const CN = ["kimi", "zhipu", "deepseek"];

export const RELEASES: Record<ReleaseName, SimProfile> = {
  "dec-2025": {
    name: "dec-2025",
    version: "0.1.27",
    openaiChat: "responses_always",
    openaiTest: "responses",
    cnTest: "chat",
    urlJoin: "v1_only",
    modelsPreview: false,
    groupSoftDelete: false,
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
    testErrorUnschedules: false,
    simpleModeAvailable: false,
    userDeleteTakesKeys: false,
  },
  "v0.1.126": {
    ...LINEAGE_2026,
    name: "v0.1.126",
    version: "0.1.126",
    modelsPreview: false,
    groupSoftDelete: false,
    openaiChat: "responses_always",
    openaiTest: "responses",
    cnTest: "chat",
    urlJoin: "v1_only",
    groupPlatforms: [...BASE_PLATFORMS, "antigravity"],
    chatPlatforms: ["openai"],
    compliance: false,
    batchDelete: false,
    modelsSync: false,
    testErrorUnschedules: false,
    simpleModeAvailable: false,
    userDeleteTakesKeys: false, // 62ccd0ff predates 705fe7d88
  },
  "v0.1.150": {
    ...LINEAGE_2026,
    name: "v0.1.150",
    version: "0.1.150",
    modelsPreview: true,
    groupSoftDelete: true,
    openaiChat: "mode_flag",
    openaiTest: "per_mode",
    cnTest: "chat",
    urlJoin: "version_dir",
    groupPlatforms: [...BASE_PLATFORMS, "antigravity", "grok"], // group_handler.go:87@9a2f11b4e
    chatPlatforms: ["openai"],
    compliance: true,
    batchDelete: false,
    modelsSync: true,
  },
  "v0.1.178": {
    ...LINEAGE_2026,
    name: "v0.1.178",
    version: "0.1.178",
    modelsPreview: true,
    cnBalance: true,
    groupSoftDelete: true,
    openaiChat: "mode_flag",
    openaiTest: "per_mode",
    cnTest: "claude",
    urlJoin: "version_dir",
    groupPlatforms: [...BASE_PLATFORMS, "antigravity", "grok", ...CN],
    chatPlatforms: ["openai", ...CN],
    compliance: true,
    batchDelete: true,
    modelsSync: true,
  },
  "v0.1.179": {
    ...LINEAGE_2026,
    name: "v0.1.179",
    version: "0.1.179",
    modelsPreview: true,
    cnBalance: true,
    groupSoftDelete: true,
    openaiChat: "mode_flag",
    openaiTest: "per_mode",
    cnTest: "chat",
    urlJoin: "version_dir",
    groupPlatforms: [...BASE_PLATFORMS, "antigravity", "grok", ...CN, "composite"], // group_handler.go:101@2bc139ab5
    chatPlatforms: ["openai", ...CN],
    compliance: true,
    batchDelete: true,
    modelsSync: true,
  },
  "v0.2.4": {
    ...LINEAGE_2026,
    name: "v0.2.4",
    version: "0.2.4",
    modelsPreview: true,
    cnBalance: true,
    groupSoftDelete: true,
    openaiChat: "mode_flag",
    openaiTest: "per_mode",
    cnTest: "chat",
    urlJoin: "version_dir",
    // CreateGroupRequest.Platform oneof, group_handler.go@02c82a9a (index copy).
    groupPlatforms: [
      ...BASE_PLATFORMS,
      "antigravity",
      "grok",
      "cursor",
      ...CN,
      "minimax",
      "opencode_go",
      "composite",
    ],
    chatPlatforms: ["openai", "grok", ...CN],
    compliance: true,
    batchDelete: true,
    modelsSync: true,
    simpleModeAvailable: true,
  },
};

const ALIASES: Record<Exclude<ProfileName, ReleaseName>, ReleaseName> = {
  "cn-native": "v0.1.179",
  "openai-compat": "v0.1.150",
  legacy: "dec-2025",
};

export function profileOf(name: ProfileName): SimProfile {
  return RELEASES[name in ALIASES ? ALIASES[name as keyof typeof ALIASES] : (name as ReleaseName)];
}

export const PROFILE_NAMES = [...Object.keys(RELEASES), ...Object.keys(ALIASES)] as ProfileName[];

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as string[]).includes(value);
}
