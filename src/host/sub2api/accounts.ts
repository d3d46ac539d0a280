import type { HostClient } from "./client.js";
import { nonSensitiveCredentials } from "./credentials.js";
import { isHostError } from "./errors.js";
import { deleteById } from "./groups.js";
import { isRecord } from "./json.js";
import { listAll } from "./paginate.js";
import type {
  AccountBalance,
  BatchCreateResult,
  BatchResult,
  CreateAccountInput,
  HostAccount,
  ListQuery,
  UpstreamPreviewInput,
} from "./types.js";
import { asArray, stringMap, Wire } from "./wire.js";

export { parseTestStream, testAccount } from "./account-test.js";

const BASE = "/api/v1/admin/accounts";

/**
 * Newer builds redact credentials and report `credentials_status.has_api_key`; Dec 2025 builds
 * return credentials as stored. Either way only non-secret fields leave this function.
 */
export function toAccount(operation: string, value: unknown): HostAccount {
  const w = Wire.of(operation, value);
  const credentials = w.record("credentials");
  const status = w.record("credentials_status");
  const mapping = isRecord(credentials.model_mapping) ? stringMap(credentials.model_mapping) : undefined;
  let groupIds = w.numArray("group_ids");
  if (groupIds.length === 0) {
    groupIds = w
      .array("groups")
      .map((g) => (isRecord(g) && typeof g.id === "number" ? g.id : undefined))
      .filter((id): id is number => id !== undefined);
  }
  return {
    id: w.num("id"),
    name: w.str("name"),
    notes: w.str("notes", ""),
    platform: w.str("platform", ""),
    type: w.str("type", ""),
    status: w.str("status", "active"),
    schedulable: w.bool("schedulable", true),
    priority: w.optNum("priority", 0),
    concurrency: w.optNum("concurrency", 0),
    groupIds,
    baseUrl: typeof credentials.base_url === "string" ? credentials.base_url : undefined,
    modelMapping: mapping,
    hasApiKey:
      status.has_api_key === true || (typeof credentials.api_key === "string" && credentials.api_key !== ""),
    credentialFields: nonSensitiveCredentials(credentials),
    extra: w.record("extra"),
    errorMessage: w.str("error_message", ""),
    // dto/types.go:223-230@67380eafd; null or absent when the host has set no pause.
    pause: dropUndefined({
      tempUnschedulableUntil: w.optStr("temp_unschedulable_until"),
      tempUnschedulableReason: w.optStr("temp_unschedulable_reason") || undefined,
      rateLimitedAt: w.optStr("rate_limited_at"),
      rateLimitResetAt: w.optStr("rate_limit_reset_at"),
      overloadUntil: w.optStr("overload_until"),
    }),
  };
}

function dropUndefined<T extends Record<string, string | undefined>>(o: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<
    Record<keyof T, string>
  >;
}

function accountBody(input: CreateAccountInput) {
  return {
    name: input.name,
    notes: input.notes,
    platform: input.platform,
    type: "apikey",
    credentials: {
      api_key: input.apiKey,
      base_url: input.baseUrl,
      ...(input.accountMode ? { account_mode: input.accountMode } : {}),
      ...(input.apiProtocol ? { api_protocol: input.apiProtocol } : {}),
      model_mapping: input.modelMapping,
    },
    ...(input.extra ? { extra: input.extra } : {}),
    // Sent explicitly: omitted values become 0 on some builds (contract §7.1).
    concurrency: input.concurrency,
    priority: input.priority,
    // Explicit ids: an empty list auto-binds to `<platform>-default` on the host.
    group_ids: input.groupIds,
  };
}

export function listAccounts(
  client: HostClient,
  pageSize: number,
  query: ListQuery = {},
): Promise<HostAccount[]> {
  return listAll(
    client,
    {
      operation: "accounts.list",
      path: BASE,
      query: {
        search: query.search,
        platform: query.platform,
        status: query.status,
        group: query.groupId,
      },
    },
    pageSize,
    (item) => toAccount("accounts.list", item),
  );
}

export async function createAccount(client: HostClient, input: CreateAccountInput, idempotencyKey: string) {
  const data = await client.envelope({
    operation: "accounts.create",
    method: "POST",
    path: BASE,
    body: accountBody(input),
    idempotencyKey,
    retry: "idempotent-write",
  });
  return toAccount("accounts.create", data);
}

/**
 * Batch create. Dec 2025 builds answer with a placeholder that creates nothing and names no
 * result; such an answer comes back with `verified: false` and the caller must check by listing.
 */
export async function createAccountsBatch(
  client: HostClient,
  inputs: CreateAccountInput[],
  idempotencyKey: string,
): Promise<BatchCreateResult> {
  const data = await client.envelope({
    operation: "accounts.batch_create",
    method: "POST",
    path: `${BASE}/batch`,
    body: { accounts: inputs.map(accountBody) },
    idempotencyKey,
    retry: "idempotent-write",
  });
  const w = Wire.of("accounts.batch_create", data);
  const byName = new Map<string, BatchCreateResult["results"][number]>();
  w.array("results").forEach((r, i) => {
    const rw = Wire.of("accounts.batch_create", r, `data.results[${i}]`);
    const success = rw.bool("success", false);
    const id = rw.value.id;
    byName.set(rw.str("name", ""), {
      name: rw.str("name", ""),
      success,
      ...(typeof id === "number" ? { id } : {}),
      ...(success ? {} : { error: rw.str("error", "unknown error") }),
    });
  });
  const verified = inputs.every((input) => byName.has(input.name));
  return {
    verified,
    results: inputs.map(
      (input) => byName.get(input.name) ?? { name: input.name, success: false, error: "no result from host" },
    ),
  };
}

export async function updateAccountGroups(
  client: HostClient,
  id: number,
  groupIds: number[],
): Promise<HostAccount> {
  // Only group_ids is sent: credentials stay untouched (an update that sends credentials drops
  // every non-sensitive key it omits, contract §7.6).
  const data = await client.envelope({
    operation: "accounts.update",
    method: "PUT",
    path: `${BASE}/${id}`,
    body: { group_ids: groupIds },
    retry: "read",
  });
  return toAccount("accounts.update", data);
}

/**
 * `PUT /admin/accounts/:id {credentials}` only. sub2api merges (MergePreservingSensitiveCreds,
 * service/admin_account.go:608, account_credentials_redact.go:38-52 @67380eafd and @2bc139ab5):
 * a sensitive key the body omits (api_key, …) is kept, an omitted non-sensitive key is DROPPED, so
 * callers send the full non-sensitive set read back first (`HostAccount.credentialFields`). The same
 * body twice gives the same result. The credentials hold the key: never log or return them.
 */
export async function updateAccountCredentials(
  client: HostClient,
  id: number,
  credentials: Record<string, unknown>,
): Promise<HostAccount> {
  const data = await client.envelope({
    operation: "accounts.update",
    method: "PUT",
    path: `${BASE}/${id}`,
    body: { credentials },
    retry: "read",
  });
  return toAccount("accounts.update", data);
}

/**
 * `POST /admin/accounts/:id/schedulable {schedulable}` (routes/admin.go:393@67380eafd, :115@d3e73f1;
 * handler account_handler.go:2533-2560, repository account_repo.go:2497-2511@67380eafd): sets the
 * one column and answers the account; `status`, credentials and the runtime pause fields stay as
 * they are. Setting the same value twice changes nothing, so a retry is safe.
 */
export async function setAccountSchedulable(
  client: HostClient,
  id: number,
  schedulable: boolean,
): Promise<HostAccount> {
  const data = await client.envelope({
    operation: "accounts.schedulable",
    method: "POST",
    path: `${BASE}/${id}/schedulable`,
    body: { schedulable },
    retry: "read",
  });
  return toAccount("accounts.schedulable", data);
}

/**
 * `POST /admin/accounts/bulk-update {account_ids, group_ids}`: the service binds groups account by
 * account and reports each (`results[].account_id, success, error`), answering 200 either way
 * (account_handler.go:95-106,560-599, admin_service.go:681-731 @d3e73f1). Only `group_ids` is
 * sent, so credentials and every other field stay as they are. Re-binding the same groups twice
 * changes nothing, so a retry is safe.
 */
export async function bulkUpdateAccountGroups(
  client: HostClient,
  ids: number[],
  groupIds: number[],
): Promise<BatchResult> {
  const data = await client.envelope({
    operation: "accounts.bulk_update",
    method: "POST",
    path: `${BASE}/bulk-update`,
    body: { account_ids: ids, group_ids: groupIds },
    retry: "read",
  });
  const done: number[] = [];
  const failed: { id: number; error: string }[] = [];
  for (const [i, r] of Wire.of("accounts.bulk_update", data).array("results").entries()) {
    const rw = Wire.of("accounts.bulk_update", r, `data.results[${i}]`);
    if (rw.bool("success", false)) done.push(rw.num("account_id"));
    else failed.push({ id: rw.num("account_id"), error: rw.str("error", "unknown error") });
  }
  return { doneIds: done, failed };
}

export function deleteAccount(client: HostClient, id: number) {
  return deleteById(client, "accounts.delete", `${BASE}/${id}`);
}

export async function deleteAccountsBatch(client: HostClient, ids: number[]): Promise<BatchResult> {
  const data = await client.envelope({
    operation: "accounts.batch_delete",
    method: "POST",
    path: `${BASE}/batch-delete`,
    body: { account_ids: ids },
    retry: "read", // deleting the same ids twice is harmless: the second answer lists them as failed
  });
  const w = Wire.of("accounts.batch_delete", data);
  const errors = new Map<number, string>();
  for (const [i, e] of w.array("errors").entries()) {
    const ew = Wire.of("accounts.batch_delete", e, `data.errors[${i}]`);
    errors.set(ew.num("account_id"), ew.str("error", "unknown error"));
  }
  return {
    doneIds: w.numArray("success_ids"),
    failed: w.numArray("failed_ids").map((id) => ({ id, error: errors.get(id) ?? "unknown error" })),
  };
}

export async function listAccountModels(client: HostClient, id: number): Promise<string[]> {
  const data = await client.envelope({
    operation: "accounts.models",
    method: "GET",
    path: `${BASE}/${id}/models`,
    retry: "read",
  });
  return asArray("accounts.models", data ?? []).map((m, i) =>
    Wire.of("accounts.models", m, `data[${i}]`).str("id"),
  );
}

/**
 * `POST /admin/accounts/models/sync-upstream-preview {platform, type, base_url, api_key}` builds a
 * temporary account in memory and lists its upstream's models; nothing is stored on the host. The
 * upstream's refusal of the key comes back as 502 (400 when the platform cannot list models).
 */
export async function previewUpstreamModels(
  client: HostClient,
  input: UpstreamPreviewInput,
): Promise<string[]> {
  const data = await client.envelope({
    operation: "accounts.models_preview",
    method: "POST",
    path: `${BASE}/models/sync-upstream-preview`,
    // The same account type relay creates (accountBody): provider keys are `apikey` accounts.
    body: { platform: input.platform, type: "apikey", base_url: input.baseUrl, api_key: input.apiKey },
    retry: "read",
  });
  return Wire.of("accounts.models_preview", data)
    .array("models")
    .filter((m): m is string => typeof m === "string");
}

export async function syncAccountModels(client: HostClient, id: number): Promise<string[]> {
  const data = await client.envelope({
    operation: "accounts.models_sync",
    method: "POST",
    path: `${BASE}/${id}/models/sync-upstream`,
    retry: "read",
  });
  return Wire.of("accounts.models_sync", data)
    .array("models")
    .filter((m): m is string => typeof m === "string");
}

/**
 * `GET /admin/cn-providers/accounts/:id/balance` (0.1.178+, routes/admin.go:489-497@67380eafd):
 * the host asks the provider (Kimi `users/me/balance`, DeepSeek `user/balance`) with the
 * account's key and answers `CNProviderBalanceResult` (cn_provider_balance_service.go:40-58):
 * `success`, `balance`, `currency`, `balances[]`, `available`, `fetched_at`, `error`; a refused key
 * is `success: false` with `error`, still HTTP 200. Other platforms and coding accounts are 400
 * (`CN_BALANCE_NO_ENDPOINT`, `CN_BALANCE_CODING_PLAN`). The host also keeps the result in the
 * account's `extra` (`<platform>_balance`, …). A build without the route: undefined, no error.
 */
export async function getAccountBalance(client: HostClient, id: number): Promise<AccountBalance | undefined> {
  let data: unknown;
  try {
    data = await client.envelope({
      operation: "accounts.balance",
      method: "GET",
      path: `/api/v1/admin/cn-providers/accounts/${id}/balance`,
      retry: "read",
    });
  } catch (err) {
    if (isHostError(err) && err.routeMissing) return undefined;
    throw err;
  }
  const w = Wire.of("accounts.balance", data);
  const balances = w.array("balances").flatMap((b, i) => {
    const bw = Wire.of("accounts.balance", b, `data.balances[${i}]`);
    const balance = bw.optNum("balance", Number.NaN);
    return Number.isFinite(balance) ? [{ currency: bw.str("currency", ""), balance }] : [];
  });
  return {
    success: w.bool("success", false),
    balance: w.optNum("balance", 0),
    currency: w.optStr("currency") || undefined,
    balances,
    available: w.bool("available", true),
    fetchedAt: w.optNum("fetched_at", 0),
    error: w.optStr("error") || undefined,
  };
}
