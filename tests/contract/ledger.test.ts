import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { projectRoot } from "../../src/util/paths.js";
import { LEDGER, renderLedger } from "./ledger-rows.js";

/**
 * One contract case per ledger row: the adapter method sends exactly the documented call and
 * reads the documented fields out of an answer shaped as sub2api's source shapes it.
 */
const BASE = "https://sub2api.test";
const KEY = `admin-${"cd".repeat(32)}`;
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const adapter = () =>
  new Sub2apiAdapter({ baseUrl: BASE, adminKey: KEY, timeoutMs: 500, sleep: async () => {} });
const ok = (data: unknown) => HttpResponse.json({ code: 0, message: "success", data });
const page = (items: unknown[]) => ok({ items, total: items.length, page: 1, page_size: 1000, pages: 1 });
const session = { accessToken: "user-jwt", userId: 7 };

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: Record<string, unknown> | undefined;
}

type Method = "get" | "post" | "put" | "delete";
interface Case {
  /** Handlers for the other calls the method makes (registered first, so the route wins). */
  before?: () => void;
  route: [Method, string];
  answer: (seen: Seen) => Response;
  call: (a: Sub2apiAdapter) => Promise<unknown>;
  /** What must have been sent. */
  sent: (seen: Seen) => void;
  /** What must have been read. */
  read: (result: unknown) => void;
}

const group = {
  id: 3,
  name: "g",
  description: "d",
  platform: "deepseek",
  status: "active",
  subscription_type: "subscription",
  is_exclusive: false,
  rate_multiplier: 1,
  daily_limit_usd: 5,
  weekly_limit_usd: null,
  monthly_limit_usd: null,
};
const acct = {
  id: 11,
  name: "a",
  notes: "n",
  platform: "deepseek",
  type: "apikey",
  status: "active",
  schedulable: true,
  priority: 50,
  concurrency: 5,
  group_ids: [3],
  credentials: { base_url: "https://api.deepseek.com", model_mapping: { m: "m" } },
  credentials_status: { has_api_key: true },
  extra: {},
  error_message: "",
};
const sub = {
  id: 41,
  user_id: 7,
  group_id: 3,
  status: "active",
  starts_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-02-01T00:00:00Z",
  notes: "tag",
};
const user = {
  id: 7,
  email: "p@x.io",
  username: "p",
  role: "user",
  status: "active",
  balance: 5,
  allowed_groups: [],
};
const accountIn = {
  name: "a",
  notes: "n",
  platform: "deepseek",
  apiKey: "sk-secret",
  baseUrl: "https://api.deepseek.com",
  apiProtocol: "chat_completions" as const,
  accountMode: "payg" as const,
  modelMapping: { m: "m" },
  concurrency: 5,
  priority: 50,
  groupIds: [3],
};
const keysOf = (b: Record<string, unknown> | undefined) => Object.keys(b ?? {}).sort();
const deleted = () => ok({ message: "deleted" });

const CASES: Record<string, Case> = {
  getVersion: {
    route: ["get", "/api/v1/admin/system/version"],
    answer: () => ok({ version: "0.1.179" }),
    call: (a) => a.getVersion(),
    sent: (s) => expect(s.headers.get("x-api-key")).toBe(KEY),
    read: (r) => expect(r).toEqual({ version: "0.1.179", source: "admin" }),
  },
  probeCapabilities: {
    route: ["get", "/api/v1/settings/public"],
    answer: () => ok({ version: "0.1.179" }),
    // The whole probe is pinned by adapter.test.ts; here: public settings first, and a host whose
    // admin API is gone fails the probe rather than reading as a host without capabilities.
    before: () =>
      server.use(
        http.all(
          `${BASE}/*`,
          () =>
            new HttpResponse("404 page not found", {
              status: 404,
              headers: { "content-type": "text/plain" },
            }),
        ),
      ),
    call: (a) => a.probeCapabilities().catch((err: Error) => err),
    sent: (s) => expect(s.method).toBe("GET"),
    read: (r) => expect(r).toBeInstanceOf(Error),
  },
  listGroups: {
    route: ["get", "/api/v1/admin/groups"],
    answer: () => page([group]),
    call: (a) => a.listGroups({ search: "relay-deepseek" }),
    sent: (s) => expect([s.query.get("search"), s.query.get("page")]).toEqual(["relay-deepseek", "1"]),
    read: (r) =>
      expect(r).toMatchObject([
        { id: 3, subscriptionType: "subscription", dailyLimitUsd: 5, weeklyLimitUsd: null },
      ]),
  },
  createGroup: {
    route: ["post", "/api/v1/admin/groups"],
    answer: () => ok(group),
    call: (a) =>
      a.createGroup({
        name: "g",
        description: "d",
        platform: "deepseek",
        subscriptionType: "subscription",
        rateMultiplier: 1,
        isExclusive: false,
        dailyLimitUsd: 5,
      }),
    sent: (s) =>
      expect(keysOf(s.body)).toEqual([
        "daily_limit_usd",
        "description",
        "is_exclusive",
        "name",
        "platform",
        "rate_multiplier",
        "subscription_type",
      ]),
    read: (r) => expect(r).toMatchObject({ id: 3, platform: "deepseek" }),
  },
  deleteGroup: {
    route: ["delete", "/api/v1/admin/groups/3"],
    answer: deleted,
    call: (a) => a.deleteGroup(3),
    sent: (s) => expect(s.method).toBe("DELETE"),
    read: (r) => expect(r).toBe("deleted"),
  },
  listChannels: {
    route: ["get", "/api/v1/admin/channels"],
    answer: () =>
      page([
        {
          id: 5,
          name: "c",
          description: "",
          status: "active",
          group_ids: [3],
          model_pricing: [{ platform: "deepseek", models: ["m"], input_price: 2.8e-7, output_price: 4.2e-7 }],
          model_mapping: {},
        },
      ]),
    call: (a) => a.listChannels({ search: "relay-deepseek" }),
    sent: (s) => expect(s.query.get("search")).toBe("relay-deepseek"),
    read: (r) => expect(r).toMatchObject([{ id: 5, groupIds: [3], modelPricing: [{ inputPrice: 2.8e-7 }] }]),
  },
  createChannel: {
    route: ["post", "/api/v1/admin/channels"],
    answer: () => ok({ id: 5, name: "c", group_ids: [3], model_pricing: [] }),
    call: (a) =>
      a.createChannel({
        name: "c",
        description: "",
        groupIds: [3],
        modelPricing: [{ platform: "deepseek", models: ["m"], inputPrice: 1e-7, outputPrice: 2e-7 }],
      }),
    sent: (s) => {
      expect(keysOf(s.body)).toEqual(["description", "group_ids", "model_pricing", "name"]);
      expect((s.body?.model_pricing as unknown[] | undefined)?.[0]).toMatchObject({
        platform: "deepseek",
        input_price: 1e-7,
      });
    },
    read: (r) => expect(r).toMatchObject({ id: 5 }),
  },
  updateChannelModelMapping: {
    route: ["put", "/api/v1/admin/channels/5"],
    answer: (seen) => ok({ id: 5, name: "c", group_ids: [3], model_pricing: [], ...seen.body }),
    call: (a) => a.updateChannelModelMapping(5, { deepseek: { "deepseek-old": "deepseek-flash" } }),
    sent: (s) =>
      expect(s.body).toEqual({ model_mapping: { deepseek: { "deepseek-old": "deepseek-flash" } } }),
    read: (r) =>
      expect(r).toMatchObject({ id: 5, modelMapping: { deepseek: { "deepseek-old": "deepseek-flash" } } }),
  },
  deleteChannel: {
    route: ["delete", "/api/v1/admin/channels/5"],
    answer: deleted,
    call: (a) => a.deleteChannel(5),
    sent: (s) => expect(s.method).toBe("DELETE"),
    read: (r) => expect(r).toBe("deleted"),
  },
  listPlans: {
    route: ["get", "/api/v1/admin/payment/plans"],
    answer: () =>
      ok([
        {
          id: 9,
          group_id: 3,
          name: "p",
          description: "",
          price: 29,
          currency: "CNY",
          validity_days: 30,
          validity_unit: "day",
          for_sale: true,
        },
      ]),
    call: (a) => a.listPlans(),
    sent: (s) => expect(s.query.get("page")).toBeNull(),
    read: (r) => expect(r).toMatchObject([{ id: 9, groupId: 3, price: 29, validityDays: 30 }]),
  },
  createPlan: {
    route: ["post", "/api/v1/admin/payment/plans"],
    answer: () => ok({ id: 9, group_id: 3, name: "p", price: 29, validity_days: 30 }),
    call: (a) => a.createPlan({ groupId: 3, name: "p", description: "", price: 29, validityDays: 30 }),
    sent: (s) =>
      expect(keysOf(s.body)).toEqual([
        "description",
        "for_sale",
        "group_id",
        "name",
        "price",
        "validity_days",
        "validity_unit",
      ]),
    read: (r) => expect(r).toMatchObject({ id: 9 }),
  },
  deletePlan: {
    route: ["delete", "/api/v1/admin/payment/plans/9"],
    answer: () => HttpResponse.json({ code: 500, message: "internal error" }, { status: 500 }),
    call: (a) => {
      server.use(http.get(`${BASE}/api/v1/admin/payment/plans`, () => ok([])));
      return a.deletePlan(9);
    },
    sent: (s) => expect(s.method).toBe("DELETE"),
    read: (r) => expect(r).toBe("already_gone"), // a 500 for a plan the listing does not show
  },
  listAccounts: {
    route: ["get", "/api/v1/admin/accounts"],
    answer: () =>
      page([
        {
          ...acct,
          rate_limited_at: null,
          rate_limit_reset_at: null,
          overload_until: null,
          temp_unschedulable_until: "2026-12-02T00:30:00Z",
          temp_unschedulable_reason: "balance low",
        },
      ]),
    call: (a) => a.listAccounts({ search: "deepseek-", groupId: 3 }),
    sent: (s) => expect([s.query.get("search"), s.query.get("group")]).toEqual(["deepseek-", "3"]),
    read: (r) =>
      expect(r).toMatchObject([
        {
          id: 11,
          groupIds: [3],
          baseUrl: "https://api.deepseek.com",
          hasApiKey: true,
          pause: { tempUnschedulableUntil: "2026-12-02T00:30:00Z", tempUnschedulableReason: "balance low" },
        },
      ]),
  },
  createAccount: {
    route: ["post", "/api/v1/admin/accounts"],
    answer: () => ok(acct),
    call: (a) => a.createAccount(accountIn, "idem-1"),
    sent: (s) => {
      expect(s.headers.get("idempotency-key")).toBe("idem-1");
      expect(keysOf(s.body)).toEqual([
        "concurrency",
        "credentials",
        "group_ids",
        "name",
        "notes",
        "platform",
        "priority",
        "type",
      ]);
      expect(s.body?.credentials).toMatchObject({
        api_key: "sk-secret",
        base_url: "https://api.deepseek.com",
        model_mapping: { m: "m" },
      });
    },
    read: (r) => expect(r).toMatchObject({ id: 11 }),
  },
  createAccountsBatch: {
    route: ["post", "/api/v1/admin/accounts/batch"],
    answer: () => ok({ success: 1, failed: 0, results: [{ name: "a", success: true, id: 11 }] }),
    call: (a) => a.createAccountsBatch([accountIn], "idem-2"),
    sent: (s) => expect((s.body?.accounts as unknown[] | undefined)?.length).toBe(1),
    read: (r) => expect(r).toEqual({ verified: true, results: [{ name: "a", success: true, id: 11 }] }),
  },
  updateAccountGroups: {
    route: ["put", "/api/v1/admin/accounts/11"],
    answer: () => ok(acct),
    call: (a) => a.updateAccountGroups(11, [3]),
    sent: (s) => expect(s.body).toEqual({ group_ids: [3] }),
    read: (r) => expect(r).toMatchObject({ id: 11 }),
  },
  updateAccountCredentials: {
    route: ["put", "/api/v1/admin/accounts/11"],
    answer: () => ok({ ...acct, credentials: { base_url: "https://api.deepseek.com" } }),
    call: (a) => a.updateAccountCredentials(11, { api_key: "sk-new", base_url: "https://api.deepseek.com" }),
    sent: (s) =>
      expect(s.body).toEqual({ credentials: { api_key: "sk-new", base_url: "https://api.deepseek.com" } }),
    read: (r) =>
      expect(r).toMatchObject({ id: 11, credentialFields: { base_url: "https://api.deepseek.com" } }),
  },
  setAccountSchedulable: {
    route: ["post", "/api/v1/admin/accounts/11/schedulable"],
    answer: (seen) => ok({ ...acct, schedulable: seen.body?.schedulable }),
    call: (a) => a.setAccountSchedulable(11, false),
    sent: (s) => expect(s.body).toEqual({ schedulable: false }),
    read: (r) => expect(r).toMatchObject({ id: 11, schedulable: false, status: "active" }),
  },
  bulkUpdateAccountGroups: {
    route: ["post", "/api/v1/admin/accounts/bulk-update"],
    answer: () =>
      ok({
        success: 1,
        failed: 1,
        results: [
          { account_id: 11, success: true },
          { account_id: 12, success: false, error: "record not found" },
        ],
      }),
    call: (a) => a.bulkUpdateAccountGroups([11, 12], [3]),
    sent: (s) => expect(s.body).toEqual({ account_ids: [11, 12], group_ids: [3] }),
    read: (r) => expect(r).toEqual({ doneIds: [11], failed: [{ id: 12, error: "record not found" }] }),
  },
  deleteAccount: {
    route: ["delete", "/api/v1/admin/accounts/11"],
    answer: () => HttpResponse.json({ code: 404, message: "Account not found" }, { status: 404 }),
    call: (a) => a.deleteAccount(11),
    sent: (s) => expect(s.method).toBe("DELETE"),
    read: (r) => expect(r).toBe("already_gone"),
  },
  deleteAccountsBatch: {
    route: ["post", "/api/v1/admin/accounts/batch-delete"],
    answer: () =>
      ok({
        total: 2,
        success: 1,
        failed: 1,
        success_ids: [11],
        failed_ids: [12],
        errors: [{ account_id: 12, error: "account not found" }],
      }),
    call: (a) => a.deleteAccountsBatch([11, 12]),
    sent: (s) => expect(s.body).toEqual({ account_ids: [11, 12] }),
    read: (r) => expect(r).toEqual({ doneIds: [11], failed: [{ id: 12, error: "account not found" }] }),
  },
  testAccount: {
    route: ["post", "/api/v1/admin/accounts/11/test"],
    answer: () =>
      new HttpResponse(
        'data: {"type":"test_start","model":"m"}\n\ndata: {"type":"content","text":"hi"}\n\ndata: {"type":"test_complete","success":true}\n\n',
        { headers: { "content-type": "text/event-stream" } },
      ),
    call: (a) => a.testAccount(11, "deepseek-flash"),
    sent: (s) => expect(s.body).toEqual({ model_id: "deepseek-flash" }),
    read: (r) => expect(r).toMatchObject({ success: true, model: "m" }),
  },
  listAccountModels: {
    route: ["get", "/api/v1/admin/accounts/11/models"],
    answer: () => ok([{ id: "m", type: "model" }]),
    call: (a) => a.listAccountModels(11),
    sent: (s) => expect(s.method).toBe("GET"),
    read: (r) => expect(r).toEqual(["m"]),
  },
  syncAccountModels: {
    route: ["post", "/api/v1/admin/accounts/11/models/sync-upstream"],
    answer: () => ok({ models: ["m", "n"] }),
    call: (a) => a.syncAccountModels(11),
    sent: (s) => expect(s.method).toBe("POST"),
    read: (r) => expect(r).toEqual(["m", "n"]),
  },
  getAccountBalance: {
    route: ["get", "/api/v1/admin/cn-providers/accounts/11/balance"],
    // CNProviderBalanceResult of a DeepSeek account with CNY and USD (cn_provider_balance_service.go:40-58@67380eafd).
    answer: () =>
      ok({
        provider: "deepseek",
        success: true,
        balance: 110,
        currency: "CNY",
        balances: [
          { currency: "CNY", balance: 110 },
          { currency: "USD", balance: 2.5 },
        ],
        available: true,
        status_code: 200,
        fetched_at: 1764633600,
        persisted: true,
      }),
    call: (a) => a.getAccountBalance(11),
    sent: (s) => expect(s.method).toBe("GET"),
    read: (r) =>
      expect(r).toEqual({
        success: true,
        balance: 110,
        currency: "CNY",
        balances: [
          { currency: "CNY", balance: 110 },
          { currency: "USD", balance: 2.5 },
        ],
        available: true,
        fetchedAt: 1764633600,
        error: undefined,
      }),
  },
  previewUpstreamModels: {
    route: ["post", "/api/v1/admin/accounts/models/sync-upstream-preview"],
    answer: () => ok({ models: ["m"] }),
    call: (a) =>
      a.previewUpstreamModels({
        platform: "deepseek",
        baseUrl: "https://api.deepseek.com",
        apiKey: "sk-secret",
      }),
    sent: (s) =>
      expect(s.body).toEqual({
        platform: "deepseek",
        type: "apikey",
        base_url: "https://api.deepseek.com",
        api_key: "sk-secret",
      }),
    read: (r) => expect(r).toEqual(["m"]),
  },
  listSubscriptions: {
    route: ["get", "/api/v1/admin/subscriptions"],
    answer: () => page([sub]),
    call: (a) => a.listSubscriptions({ groupId: 3 }),
    sent: (s) => expect(s.query.get("group_id")).toBe("3"),
    read: (r) => expect(r).toMatchObject([{ id: 41, userId: 7, notes: "tag" }]),
  },
  bulkAssignSubscriptions: {
    route: ["post", "/api/v1/admin/subscriptions/bulk-assign"],
    answer: () =>
      ok({ success_count: 1, failed_count: 1, subscriptions: [sub], errors: ["user 8: user not found"] }),
    call: (a) => a.bulkAssignSubscriptions({ userIds: [7, 8], groupId: 3, validityDays: 30, notes: "tag" }),
    sent: (s) => expect(s.body).toEqual({ user_ids: [7, 8], group_id: 3, validity_days: 30, notes: "tag" }),
    read: (r) =>
      expect(r).toMatchObject({
        assigned: [{ id: 41, userId: 7 }],
        failed: [{ userId: 8, reason: "user not found" }],
      }),
  },
  assignSubscription: {
    route: ["post", "/api/v1/admin/subscriptions/assign"],
    answer: () => ok(sub),
    call: (a) => a.assignSubscription({ userId: 7, groupId: 3, validityDays: 30, notes: "tag" }),
    sent: (s) => expect(s.body).toEqual({ user_id: 7, group_id: 3, validity_days: 30, notes: "tag" }),
    read: (r) => expect(r).toMatchObject({ kind: "assigned", subscription: { id: 41 } }),
  },
  extendSubscription: {
    route: ["post", "/api/v1/admin/subscriptions/41/extend"],
    answer: () => ok({ ...sub, expires_at: "2026-03-03T00:00:00Z" }),
    call: (a) => a.extendSubscription(41, 30),
    sent: (s) => {
      expect(s.body).toEqual({ days: 30 });
      expect(s.headers.get("idempotency-key")).toMatch(/^relay-extend-[0-9a-f-]{36}$/);
    },
    read: (r) => expect(r).toMatchObject({ id: 41, expiresAt: "2026-03-03T00:00:00Z" }),
  },
  revokeSubscription: {
    route: ["delete", "/api/v1/admin/subscriptions/41"],
    answer: deleted,
    call: (a) => a.revokeSubscription(41),
    sent: (s) => expect(s.method).toBe("DELETE"),
    read: (r) => expect(r).toBe("revoked"),
  },
  findUserByEmail: {
    route: ["get", "/api/v1/admin/users"],
    answer: () => page([{ ...user, email: "xp@x.io", id: 6 }, user]),
    call: (a) => a.findUserByEmail("P@x.io"),
    sent: (s) => expect(s.query.get("search")).toBe("P@x.io"),
    read: (r) => expect(r).toMatchObject({ id: 7 }), // the exact email, not the substring match
  },
  createUser: {
    route: ["post", "/api/v1/admin/users"],
    answer: () => ok(user),
    call: (a) =>
      a.createUser({ email: "p@x.io", password: "secret-pw", username: "p", notes: "relay probe" }),
    sent: (s) => expect(keysOf(s.body)).toEqual(["email", "notes", "password", "username"]),
    read: (r) => expect(r).toMatchObject({ id: 7, email: "p@x.io" }),
  },
  getUser: {
    route: ["get", "/api/v1/admin/users/7"],
    answer: () => ok(user),
    call: (a) => a.getUser(7),
    sent: (s) => expect(s.method).toBe("GET"),
    read: (r) => expect(r).toMatchObject({ id: 7, balance: 5 }),
  },
  resetUserPassword: {
    route: ["put", "/api/v1/admin/users/7"],
    answer: () => ok(user),
    call: (a) => a.resetUserPassword(7, "new-secret"),
    sent: (s) => expect(s.body).toEqual({ password: "new-secret" }),
    read: (r) => expect(r).toMatchObject({ id: 7 }),
  },
  deleteUser: {
    route: ["delete", "/api/v1/admin/users/7"],
    answer: () => ok({ message: "User deleted successfully" }),
    call: (a) => a.deleteUser(7),
    sent: (s) => {
      expect(s.method).toBe("DELETE");
      expect(s.body).toBeUndefined();
    },
    read: (r) => expect(r).toBe("deleted"),
  },
  setUserBalance: {
    route: ["post", "/api/v1/admin/users/7/balance"],
    answer: () => ok(user),
    call: (a) => a.setUserBalance(7, 5, "idem-3"),
    sent: (s) => {
      expect(s.headers.get("idempotency-key")).toBe("idem-3");
      expect(s.body).toMatchObject({ balance: 5, operation: "set" });
    },
    read: (r) => expect(r).toMatchObject({ id: 7 }),
  },
  login: {
    route: ["post", "/api/v1/auth/login"],
    answer: () => ok({ access_token: "user-jwt", user: { id: 7 } }),
    call: (a) => a.login("p@x.io", "secret-pw"),
    sent: (s) => {
      expect(s.headers.get("x-api-key")).toBeNull();
      expect(s.body).toEqual({ email: "p@x.io", password: "secret-pw" });
    },
    read: (r) => expect(r).toEqual({ kind: "ok", session }),
  },
  listUserKeys: {
    route: ["get", "/api/v1/keys"],
    answer: () => page([{ id: 2, name: "k", key: "sk-user", group_id: 3, status: "active" }]),
    call: (a) => a.listUserKeys(session),
    sent: (s) => expect(s.headers.get("authorization")).toBe("Bearer user-jwt"),
    read: (r) => expect(r).toMatchObject([{ id: 2, key: "sk-user", groupId: 3 }]),
  },
  createUserKey: {
    route: ["post", "/api/v1/keys"],
    answer: () => ok({ id: 2, name: "k", key: "sk-user", group_id: 3, status: "active" }),
    call: (a) => a.createUserKey(session, { name: "k", groupId: 3 }),
    sent: (s) => {
      expect(s.body).toEqual({ name: "k", group_id: 3 });
      expect(s.headers.get("idempotency-key")).toMatch(/^relay-key-[0-9a-f-]{36}$/);
    },
    read: (r) => expect(r).toMatchObject({ id: 2, key: "sk-user" }),
  },
  deleteUserKey: {
    route: ["delete", "/api/v1/keys/2"],
    answer: deleted,
    call: (a) => a.deleteUserKey(session, 2),
    sent: (s) => expect(s.headers.get("authorization")).toBe("Bearer user-jwt"),
    read: (r) => expect(r).toBe("deleted"),
  },
  chatCompletion: {
    route: ["post", "/v1/chat/completions"],
    answer: () =>
      HttpResponse.json(
        { code: "GROUP_DELETED", message: "The group of this API key has been deleted" },
        { status: 403 },
      ),
    call: (a) =>
      a.chatCompletion("sk-user", { model: "m", messages: [{ role: "user", content: "hi" }], maxTokens: 8 }),
    sent: (s) => {
      expect(s.headers.get("authorization")).toBe("Bearer sk-user");
      expect(s.body).toEqual({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 8,
        stream: false,
      });
    },
    read: (r) => expect(r).toMatchObject({ ok: false, status: 403, errorCode: "GROUP_DELETED" }),
  },
};

describe("the fidelity ledger", () => {
  it("has one row per adapter method, and one contract case per row", () => {
    const methods = Object.getOwnPropertyNames(Sub2apiAdapter.prototype).filter(
      (m) => m !== "constructor" && m !== "baseUrl",
    );
    expect(LEDGER.map((r) => r.method).sort()).toEqual(methods.sort());
    expect(Object.keys(CASES).sort()).toEqual(methods.sort());
  });

  it("docs/host-compatibility.md carries the ledger as `npm run docs:ledger` renders it", () => {
    const doc = readFileSync(join(projectRoot(), "docs", "host-compatibility.md"), "utf8");
    const section = /<!-- ledger:start -->\n([\s\S]*?)\n<!-- ledger:end -->/.exec(doc)?.[1];
    expect(section, "run `npm run docs:ledger`").toBe(renderLedger());
  });

  for (const row of LEDGER) {
    it(`${row.method}: ${row.http}`, async () => {
      const c = CASES[row.method];
      if (!c) throw new Error(`no contract case for ${row.method}`);
      const seen: Seen[] = [];
      const [verb, path] = c.route;
      c.before?.();
      server.use(
        http[verb](`${BASE}${path}`, async ({ request }) => {
          const url = new URL(request.url);
          const text = await request.text();
          const s: Seen = {
            method: request.method,
            path: url.pathname,
            query: url.searchParams,
            headers: request.headers,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
          };
          seen.push(s);
          return c.answer(s);
        }),
      );
      const result = await c.call(adapter());
      expect(seen.length, `${row.method} called ${path}`).toBeGreaterThan(0);
      c.sent(seen[0] as Seen);
      c.read(result);
    });
  }
});
