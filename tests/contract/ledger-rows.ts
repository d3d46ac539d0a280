/**
 * The fidelity ledger: one row per host call relay makes (one per adapter method), with what is
 * sent, what is read, the behaviour relied on, the builds it holds for, where in sub2api's source
 * it was read, and the contract test that pins it (tests/contract/ledger.test.ts runs one case per
 * row). `npm run docs:ledger` renders it into docs/host-compatibility.md; a test keeps that current.
 * `@d3e73f1` is the Dec 2025 tree; rows for routes that arrived later cite the first release
 * (issue #13's reading of the release history) where no line was read here.
 */
export interface LedgerRow {
  method: string;
  http: string;
  sent: string;
  read: string;
  relied: string;
  builds: string;
  source: string;
}

const ADMIN = "routes/admin.go";
const DEC = "@d3e73f1";

export const LEDGER: LedgerRow[] = [
  {
    method: "getVersion",
    http: "GET /api/v1/admin/system/version (fallback GET /api/v1/settings/public)",
    sent: "x-api-key",
    read: "data.version",
    relied:
      "release builds report the git tag; a compliance lock (423) still lets the public version through",
    builds: "all",
    source: `${ADMIN}:198, routes/auth.go:27 ${DEC}`,
  },
  {
    method: "probeCapabilities",
    http: "reads + writes the host must refuse (see Capability probe)",
    sent: "nameless group, empty batch, non-numeric account id, `{}` bodies",
    read: "JSON 400 vs Gin's plain 404; 423/403/429 codes",
    relied: "validation runs before any write; unknown routes are Gin's text 404",
    builds: "all",
    source: `${ADMIN}:88-215 ${DEC}`,
  },
  {
    method: "listGroups",
    http: "GET /api/v1/admin/groups?search&platform&status&page&page_size",
    sent: "filters, page_size 1000 (100 on Dec 2025)",
    read: "items[].id,name,description,platform,status,subscription_type,is_exclusive,rate_multiplier,*_limit_usd; pages",
    relied: "an over-large page_size silently becomes 20: the loop trusts `pages`",
    builds: "all (search from 2026)",
    source: `${ADMIN}:88 ${DEC}`,
  },
  {
    method: "createGroup",
    http: "POST /api/v1/admin/groups",
    sent: "name, description, platform, subscription_type, rate_multiplier (> 0), is_exclusive, daily/weekly/monthly_limit_usd",
    read: "data.id and the echoed fields",
    relied: "platform `oneof` list decides CN platforms (0.1.178+: kimi, zhipu, deepseek)",
    builds: "all",
    source: `${ADMIN}:91 ${DEC}; group_handler.go oneof @49504adc (issue #13)`,
  },
  {
    method: "deleteGroup",
    http: "DELETE /api/v1/admin/groups/:id",
    sent: "id",
    read: "2xx; 404 = already gone",
    relied:
      "Dec 2025 cascades (subscriptions deleted, keys unbound); 0.1.129+ soft-deletes and keeps keys bound",
    builds: "all",
    source: `${ADMIN}:93, admin_service.go:551-572 ${DEC}`,
  },
  {
    method: "listChannels",
    http: "GET /api/v1/admin/channels?search&page&page_size",
    sent: "search",
    read: "items[].id,name,description,status,group_ids,model_pricing[].platform/models/input_price/output_price,model_mapping",
    relied: "prices are USD per token",
    builds: "0.1.107+",
    source: "first release 0.1.107 (issue #13)",
  },
  {
    method: "createChannel",
    http: "POST /api/v1/admin/channels",
    sent: "name, description, group_ids, model_pricing[{platform, models, input_price, output_price}], model_mapping?",
    read: "data.id",
    relied: "pricing keyed to the group's platform",
    builds: "0.1.107+",
    source: "first release 0.1.107 (issue #13)",
  },
  {
    method: "updateChannelModelMapping",
    http: "PUT /api/v1/admin/channels/:id",
    sent: "model_mapping (platform → {from → to}, the whole mapping); model_pricing[{platform, models, billing_mode, input_price, output_price}] when a migration reprices the channel",
    read: "data (channel): model_mapping, model_pricing",
    relied:
      "omitted fields are kept; a present model_mapping replaces the whole mapping ({} clears it), a present model_pricing the whole pricing (new entry ids); keys matched lower-cased",
    builds: "0.1.107+",
    source: "channel_handler.go:44-57,494-560 channel_service.go:907-909 @67380eafd",
  },
  {
    method: "deleteChannel",
    http: "DELETE /api/v1/admin/channels/:id",
    sent: "id",
    read: "2xx; 404 = already gone",
    relied: "—",
    builds: "0.1.107+",
    source: "first release 0.1.107 (issue #13)",
  },
  {
    method: "listPlans",
    http: "GET /api/v1/admin/payment/plans",
    sent: "—",
    read: "data[].id,group_id,name,description,price,currency,validity_days,validity_unit,for_sale",
    relied: "an unpaginated array",
    builds: "0.1.111+ with the payment module",
    source: "first release 0.1.111 (issue #13)",
  },
  {
    method: "createPlan",
    http: "POST /api/v1/admin/payment/plans",
    sent: "group_id, name, description, price (> 0), currency (the pack's, e.g. `CNY`), validity_days, validity_unit `day`, for_sale",
    read: "data.id",
    relied:
      "validatePlanRequired order: PLAN_NAME_REQUIRED, PLAN_GROUP_REQUIRED, PLAN_PRICE_INVALID, PLAN_VALIDITY_REQUIRED, PLAN_VALIDITY_UNIT_REQUIRED (only a non-empty unit); currency is a display label, 3 ISO letters or PLAN_CURRENCY_INVALID",
    builds: "0.1.111+",
    source:
      "payment config service validatePlanRequired (fork carrying upstream's); payment_config_service.go:165-178, payment_config_plans.go:15-49,135-152 @67380eafd",
  },
  {
    method: "deletePlan",
    http: "DELETE /api/v1/admin/payment/plans/:id",
    sent: "id",
    read: "2xx; a 500 is confirmed by listing",
    relied: "an unknown plan answers 500 (ent not-found unmapped)",
    builds: "0.1.111+",
    source: "issue #13",
  },
  {
    method: "listAccounts",
    http: "GET /api/v1/admin/accounts?search&platform&status&group&page&page_size",
    sent: "filters (group filter from 2026)",
    read: "items[].id,name,notes,platform,type,status,schedulable,priority,concurrency,group_ids|groups[].id,credentials.base_url/model_mapping,credentials_status.has_api_key,extra,error_message,temp_unschedulable_until/reason,rate_limited_at,rate_limit_reset_at,overload_until",
    relied: "2026 builds redact credentials; Dec 2025 returns them (only non-secret fields are kept)",
    builds: "all",
    source: `${ADMIN}:102 ${DEC}; dto/types.go:223-230 (runtime pauses: a paused account is reported failing) @67380eafd`,
  },
  {
    method: "createAccount",
    http: "POST /api/v1/admin/accounts (Idempotency-Key)",
    sent: "name, notes, platform, type `apikey`, credentials{api_key, base_url, model_mapping, api_protocol?, account_mode?}, extra?, concurrency, priority, group_ids",
    read: "data.id",
    relied: "no platform list or binding check; unknown group → 500; Dec 2025 drops notes",
    builds: "all (Idempotency-Key from 0.1.104)",
    source: `account_handler.go:69-79, admin_service.go:597-619 ${DEC}`,
  },
  {
    method: "createAccountsBatch",
    http: "POST /api/v1/admin/accounts/batch (Idempotency-Key)",
    sent: "accounts[] as createAccount",
    read: "data.results[].name,success,id,error",
    relied: "Dec 2025 is a placeholder naming no result: checked by listing",
    builds: "all (real from 0.1.104)",
    source: `${ADMIN}:117 ${DEC}; issue #13`,
  },
  {
    method: "updateAccountGroups",
    http: "PUT /api/v1/admin/accounts/:id",
    sent: "group_ids only",
    read: "data (account)",
    relied:
      "sending credentials would drop non-sensitive keys omitted; groups are checked for existence only (no platform check)",
    builds: "all",
    source: `${ADMIN}:106 ${DEC}`,
  },
  {
    method: "updateAccountCredentials",
    http: "PUT /api/v1/admin/accounts/:id",
    sent: "credentials only: the non-sensitive fields read back (base_url, model_mapping, …) plus api_key",
    read: "data (account; credentials redacted, credentials_status.has_api_key)",
    relied:
      "the key is replaced in place: same id, group bindings, status and schedulable; an omitted sensitive key is kept, an omitted non-sensitive key is dropped (MergePreservingSensitiveCreds)",
    builds: "all (the merge that keeps omitted sensitive keys: 0.1.179 and main)",
    source: `${ADMIN}:106 ${DEC}; service/admin_account.go:608, service/account_credentials_redact.go:5-52 @67380eafd and @2bc139ab5`,
  },
  {
    method: "setAccountSchedulable",
    http: "POST /api/v1/admin/accounts/:id/schedulable",
    sent: "schedulable (true or false, nothing else)",
    read: "data (account)",
    relied:
      "sets only the schedulable column (status, credentials and runtime pauses stay); a passing test does not set it back after a 401 took it away (0.1.130+), so relay's health policy resumes what it paused through this call",
    builds: "all",
    source: `${ADMIN}:115 ${DEC}; ${ADMIN}:393, handler/admin/account_handler.go:2533-2560, repository/account_repo.go:2497-2511 @67380eafd`,
  },
  {
    method: "bulkUpdateAccountGroups",
    http: "POST /api/v1/admin/accounts/bulk-update",
    sent: "account_ids, group_ids (nothing else)",
    read: "data.results[].account_id, success, error",
    relied:
      "Dec 2025: bindings set account by account, 200 either way; 2026: one unknown group fails the whole call 404 GROUP_NOT_FOUND before any binding, and the groups sent REPLACE each account's (relay accounts have one group); heal re-binds with one call per group and stops at GROUP_NOT_FOUND",
    builds: "all",
    source: `account_handler.go:95-106,560-599, admin_service.go:681-731 ${DEC}; admin_account.go:913-917,1108-1127, account_repo.go:1811-1840 @67380eafd`,
  },
  {
    method: "deleteAccount",
    http: "DELETE /api/v1/admin/accounts/:id",
    sent: "id",
    read: "2xx; 404 = already gone",
    relied:
      "every build answers 200 for an unknown id (a delete by predicate), so a 200 is not proof the account existed",
    builds: "all",
    source: `repository/account_repo.go:67-72 ${DEC}; account_handler.go:1048-1062, account_repo.go:866-905 @67380eafd`,
  },
  {
    method: "deleteAccountsBatch",
    http: "POST /api/v1/admin/accounts/batch-delete",
    sent: "account_ids",
    read: "data.success_ids, failed_ids, errors[].account_id/error",
    relied: "a second delete lists the ids as failed (harmless)",
    builds: "0.1.170+",
    source: "first release 0.1.170 (issue #13)",
  },
  {
    method: "testAccount",
    http: "POST /api/v1/admin/accounts/:id/test (SSE)",
    sent: "model_id",
    read: "events test_start, content, test_complete{success}, error{error}",
    relied:
      "HTTP 200 either way; CN accounts tested at the joined chat URL from 0.1.179 (0.1.178: Claude test); a 401 sets status=error (0.1.130+: and schedulable=false, which a passing test does not restore)",
    builds: "all",
    source: `${ADMIN}:108 ${DEC}; account_test_service.go:288-304 @49504adc; account_test_service.go:2005-2009, account_handler.go:1113-1117 @67380eafd`,
  },
  {
    method: "listAccountModels",
    http: "GET /api/v1/admin/accounts/:id/models",
    sent: "id",
    read: "data[].id",
    relied: "the mapping's keys are the models served",
    builds: "all",
    source: `${ADMIN}:116 ${DEC}`,
  },
  {
    method: "syncAccountModels",
    http: "POST /api/v1/admin/accounts/:id/models/sync-upstream",
    sent: "id",
    read: "data.models[]",
    relied:
      "one call per batch: every account of a batch has the same base URL and mapping; reconcile reads the upstream's catalogue with it, since the handler fetches and returns the list without storing it",
    builds: "0.1.127+",
    source: "first release 0.1.127 (issue #13)",
  },
  {
    method: "getAccountBalance",
    http: "GET /api/v1/admin/cn-providers/accounts/:id/balance",
    sent: "id",
    read: "data.success, balance, currency, balances[], available, fetched_at, error",
    relied:
      "kimi/deepseek pay-as-you-go accounts only (400 otherwise); a refused key is success:false under 200; Kimi is always asked at api.moonshot.cn; the host stores the result in the account's extra",
    builds: "0.1.178+ (absent before: Gin's 404, read as no balance)",
    source: `${ADMIN}:489-497, handler/admin/cn_provider_handler.go:53-69, service/cn_provider_balance_service.go:40-58,118-244 @67380eafd`,
  },
  {
    method: "previewUpstreamModels",
    http: "POST /api/v1/admin/accounts/models/sync-upstream-preview",
    sent: "platform, type, base_url, api_key",
    read: "data.models[]; 502 `Upstream model list request failed with HTTP 401/403` = key refused",
    relied:
      "a temporary account in memory: nothing is stored; 400 `Unsupported platform for upstream model sync: <p>` outside openai/CN; 400 `Invalid base URL: host is not allowed` under security.url_allowlist (checked once before every import: refused with no write)",
    builds: "0.1.134+",
    source: "account_handler.go SyncUpstreamModelsPreview (fork carrying upstream's)",
  },
  {
    method: "listSubscriptions",
    http: "GET /api/v1/admin/subscriptions?user_id&group_id&status&page&page_size",
    sent: "filters",
    read: "items[].id,user_id,group_id,status,starts_at,expires_at,notes",
    relied: "notes identify relay's own subscription",
    builds: "all",
    source: `${ADMIN}:209 ${DEC}`,
  },
  {
    method: "bulkAssignSubscriptions",
    http: "POST /api/v1/admin/subscriptions/bulk-assign",
    sent: "user_ids, group_id, validity_days, notes",
    read: "data.subscriptions[], errors[] `user <id>: <message>`",
    relied: "assigns user by user and answers 200 either way; no Idempotency-Key",
    builds: "all",
    source: `subscription_handler.go:48-54,156-181, subscription_service.go:236-260 ${DEC}`,
  },
  {
    method: "assignSubscription",
    http: "POST /api/v1/admin/subscriptions/assign",
    sent: "user_id, group_id, validity_days, notes",
    read: "data (subscription); 409 + listing by notes",
    relied:
      "newer builds answer an identical re-assign with the row; Dec 2025 with 409 SUBSCRIPTION_ALREADY_EXISTS",
    builds: "all",
    source: `${ADMIN}:212 ${DEC}; contract §8.2`,
  },
  {
    method: "extendSubscription",
    http: "POST /api/v1/admin/subscriptions/:id/extend (Idempotency-Key)",
    sent: "days (-36500..36500, not 0; Dec 2025 min 1), a fresh key per extend",
    read: "data (subscription)",
    relied:
      "the way out of validity_days_mismatch for relay's own subscription; `RequireKey`: keyless is 400 IDEMPOTENCY_KEY_REQUIRED where observe_only is false; with the key a retry is replayed (X-Idempotency-Replayed), so it is retried where the host honours keys",
    builds: "all (Idempotency-Key from 0.1.104)",
    source: `${ADMIN}:214, subscription_handler.go:56-59,183-205 ${DEC}; subscription_handler.go:57-60,204-217, admin/idempotency_helper.go:40-48 @67380eafd`,
  },
  {
    method: "revokeSubscription",
    http: "DELETE /api/v1/admin/subscriptions/:id",
    sent: "id",
    read: "2xx; 404 = already gone",
    relied: "a soft revoke on newer builds, a hard delete on Dec 2025",
    builds: "all",
    source: `${ADMIN}:215, subscription_service.go:263-281 ${DEC}`,
  },
  {
    method: "findUserByEmail",
    http: "GET /api/v1/admin/users?search",
    sent: "search = email",
    read: "items[].id,email,username,role,status,balance,allowed_groups",
    relied: "search is a substring match: the exact email is picked client-side",
    builds: "all",
    source: `${ADMIN}:74 ${DEC}`,
  },
  {
    method: "createUser",
    http: "POST /api/v1/admin/users",
    sent: "email, password, username, notes",
    read: "data.id",
    relied: "—",
    builds: "all",
    source: `${ADMIN}:76 ${DEC}`,
  },
  {
    method: "getUser",
    http: "GET /api/v1/admin/users/:id",
    sent: "id",
    read: "data (user); 404 = no such user",
    relied: "—",
    builds: "all",
    source: `${ADMIN}:75 ${DEC}`,
  },
  {
    method: "resetUserPassword",
    http: "PUT /api/v1/admin/users/:id",
    sent: "password (min 6)",
    read: "data (user)",
    relied: "setting the same password twice changes nothing",
    builds: "all",
    source: `user_handler.go:39-49 ${DEC}`,
  },
  {
    method: "deleteUser",
    http: "DELETE /api/v1/admin/users/:id",
    sent: "id",
    read: "2xx; 404 USER_NOT_FOUND = already gone",
    relied:
      "soft delete (email unique only among live users); 0.1.134+ deletes the user's API keys with it (705fe7d88), older builds refuse a key whose user is gone; subscriptions stay; an admin is refused (500)",
    builds: "all",
    source: `${ADMIN}:78 ${DEC}; routes/admin.go:302, user_handler.go:366-382, admin_user.go:351-394,422-440, user_repo.go:178-181,451-517 @67380eafd`,
  },
  {
    method: "setUserBalance",
    http: "POST /api/v1/admin/users/:id/balance (Idempotency-Key)",
    sent: "balance, operation `set`, notes",
    read: "data (user)",
    relied: "a new key per top-up: a replayed answer within 24 h would not top up",
    builds: "all",
    source: `${ADMIN}:79 ${DEC}; idempotency.go @3c800aaa`,
  },
  {
    method: "login",
    http: "POST /api/v1/auth/login",
    sent: "email, password (no admin key)",
    read: "data.access_token, user.id, requires_2fa",
    relied: "captcha, Turnstile, backend mode and 2FA are reported as blocked, never bypassed",
    builds: "all",
    source: `routes/auth.go:20 ${DEC}`,
  },
  {
    method: "listUserKeys",
    http: "GET /api/v1/keys (bearer)",
    sent: "page, page_size",
    read: "items[].id,name,key,group_id,status",
    relied: "—",
    builds: "all",
    source: `routes/user.go:30 ${DEC}`,
  },
  {
    method: "createUserKey",
    http: "POST /api/v1/keys (bearer, Idempotency-Key)",
    sent: "name, group_id, a fresh key per create",
    read: "data.id, key",
    relied:
      "the key is held in memory only for the gateway proof; `RequireKey` as extend: keyless is refused where observe_only is false, a retry with the key is replayed",
    builds: "all (Idempotency-Key from 0.1.104)",
    source: `routes/user.go:32 ${DEC}; api_key_handler.go:220, idempotency_helper.go:47 @67380eafd`,
  },
  {
    method: "deleteUserKey",
    http: "DELETE /api/v1/keys/:id (bearer)",
    sent: "id",
    read: "2xx; 404 = already gone",
    relied: "—",
    builds: "all",
    source: `routes/user.go:34 ${DEC}`,
  },
  {
    method: "chatCompletion",
    http: "POST /v1/chat/completions (user key)",
    sent: "model, messages, max_tokens, stream false",
    read: "status, choices[0].message.content, model; error code",
    relied: "SUBSCRIPTION_NOT_FOUND / INSUFFICIENT_BALANCE / GROUP_DELETED name why access is broken",
    builds: "0.1.104+",
    source: "first release 0.1.104 (issue #13); routes/gateway.go:23-42 @d3e73f1 has none",
  },
];

/** The ledger as the Markdown table docs/host-compatibility.md carries between its markers. */
export function renderLedger(rows: LedgerRow[] = LEDGER): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    "| adapter method | call | sent | read | relied on | builds | source |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| \`${r.method}\` | ${cell(r.http)} | ${cell(r.sent)} | ${cell(r.read)} | ${cell(r.relied)} | ${cell(r.builds)} | ${cell(r.source)} |`,
    ),
  ];
  return lines.join("\n");
}
