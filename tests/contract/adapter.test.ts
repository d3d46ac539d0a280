import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HostError, Sub2apiAdapter } from "../../src/host/sub2api/index.js";

const BASE = "https://sub2api.test";
const KEY = `admin-${"ab".repeat(32)}`;
const server = setupServer();
const sleeps: number[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  sleeps.length = 0;
});
afterAll(() => server.close());

function adapter(extra: Partial<ConstructorParameters<typeof Sub2apiAdapter>[0]> = {}) {
  return new Sub2apiAdapter({
    baseUrl: `${BASE}/`,
    adminKey: KEY,
    timeoutMs: 200,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
}

const ok = (data: unknown) => HttpResponse.json({ code: 0, message: "success", data });

async function hostError(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HostError);
    return err as HostError;
  }
  throw new Error("expected a HostError");
}

describe("version", () => {
  it("sends x-api-key to /api/v1/admin/system/version and reads data.version", async () => {
    let seen: Request | undefined;
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, ({ request }) => {
        seen = request;
        return ok({ version: "0.1.105.36" });
      }),
    );
    await expect(adapter().getVersion()).resolves.toEqual({ version: "0.1.105.36", source: "admin" });
    expect(seen?.headers.get("x-api-key")).toBe(KEY);
    expect(seen?.headers.get("authorization")).toBeNull();
  });

  it("falls back to public settings when the admin API is compliance-locked", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () =>
        HttpResponse.json(
          {
            code: "ADMIN_COMPLIANCE_ACK_REQUIRED",
            message: "ack required",
            metadata: { version: "v2026.06.10" },
          },
          { status: 423 },
        ),
      ),
      http.get(`${BASE}/api/v1/settings/public`, ({ request }) => {
        expect(request.headers.get("x-api-key")).toBeNull();
        return ok({ version: "0.1.126", payment_enabled: true });
      }),
    );
    await expect(adapter().getVersion()).resolves.toEqual({ version: "0.1.126", source: "public" });
  });
});

describe("error shapes", () => {
  it("parses a handler envelope with a numeric code and a reason", async () => {
    server.use(
      http.post(`${BASE}/api/v1/admin/groups`, () =>
        HttpResponse.json(
          { code: 409, message: "group name already exists", reason: "GROUP_EXISTS" },
          { status: 409 },
        ),
      ),
    );
    const err = await hostError(
      adapter().createGroup({
        name: "g",
        description: "",
        platform: "deepseek",
        subscriptionType: "subscription",
        rateMultiplier: 1,
        isExclusive: false,
      }),
    );
    expect(err).toMatchObject({
      kind: "http",
      status: 409,
      code: 409,
      reason: "GROUP_EXISTS",
      operation: "groups.create",
    });
    expect(err.machineCode).toBe("GROUP_EXISTS");
  });

  it("parses a middleware error with a string code: 401 INVALID_ADMIN_KEY, not retried", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () => {
        calls++;
        return HttpResponse.json(
          { code: "INVALID_ADMIN_KEY", message: "Invalid admin API key" },
          { status: 401 },
        );
      }),
    );
    const err = await hostError(adapter().getVersion());
    expect(err).toMatchObject({ status: 401, code: "INVALID_ADMIN_KEY", machineCode: "INVALID_ADMIN_KEY" });
    expect(calls).toBe(1);
  });

  it("reports 423 ADMIN_COMPLIANCE_ACK_REQUIRED with its metadata", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/groups`, () =>
        HttpResponse.json(
          {
            code: "ADMIN_COMPLIANCE_ACK_REQUIRED",
            message: "administrator compliance acknowledgement is required",
            metadata: { version: "v2026.06.10" },
          },
          { status: 423 },
        ),
      ),
    );
    const err = await hostError(adapter().listGroups());
    expect(err).toMatchObject({
      status: 423,
      code: "ADMIN_COMPLIANCE_ACK_REQUIRED",
      metadata: { version: "v2026.06.10" },
    });
  });

  it("reports 403 STEP_UP_ADMIN_API_KEY_FORBIDDEN on account writes, without retry", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/admin/accounts`, () => {
        calls++;
        return HttpResponse.json(
          { code: "STEP_UP_ADMIN_API_KEY_FORBIDDEN", message: "step-up" },
          { status: 403 },
        );
      }),
    );
    const err = await hostError(
      adapter({ idempotency: true }).createAccount(
        {
          name: "a",
          notes: "",
          platform: "deepseek",
          apiKey: "sk-x",
          baseUrl: "https://api.deepseek.com",
          modelMapping: {},
          concurrency: 1,
          priority: 50,
          groupIds: [1],
        },
        "idem-1",
      ),
    );
    expect(err.is("STEP_UP_ADMIN_API_KEY_FORBIDDEN")).toBe(true);
    expect(calls).toBe(1);
  });

  it("quoted the fields of a JSON error that is not sub2api's (db_password=…): now describes it", async () => {
    const foreign = { error: { message: "db_password=hunter2 internal" }, trace: "at main.go:12" };
    server.use(
      http.get(`${BASE}/api/v1/admin/groups`, () => HttpResponse.json(foreign, { status: 500 })),
      http.post(`${BASE}/api/v1/admin/accounts`, () =>
        HttpResponse.json({ error: "mixed_channel_warning", message: "mixed channels" }, { status: 409 }),
      ),
    );
    const err = await hostError(adapter().listGroups());
    expect(err).toMatchObject({ kind: "http", status: 500, code: undefined, machineCode: "HTTP_500" });
    expect(err.message).toBe(
      `groups.list: host answered 500 with JSON that is not a sub2api error (application/json, ${JSON.stringify(foreign).length} bytes)`,
    );
    // The account handler's own shape is still read.
    const mixed = await hostError(
      adapter().createAccount(
        {
          name: "a",
          notes: "",
          platform: "deepseek",
          apiKey: "sk-x",
          baseUrl: "https://api.deepseek.com",
          modelMapping: {},
          concurrency: 1,
          priority: 50,
          groupIds: [1],
        },
        "idem-2",
      ),
    );
    expect(mixed).toMatchObject({ status: 409, code: "mixed_channel_warning" });
    expect(mixed.message).toBe("accounts.create: host answered 409 mixed channels");
  });

  it("treats Gin's plain-text 404 as a missing route", async () => {
    server.use(
      http.get(
        `${BASE}/api/v1/admin/channels`,
        () =>
          new HttpResponse("404 page not found", { status: 404, headers: { "content-type": "text/plain" } }),
      ),
    );
    const err = await hostError(adapter().listChannels());
    expect(err.routeMissing).toBe(true);
    expect(err.status).toBe(404);
  });

  it("fails clearly on a response of the wrong shape", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () => HttpResponse.json({ version: "0.1.1" })),
    );
    const err = await hostError(adapter().getVersion());
    expect(err.kind).toBe("parse");
    expect(err.message).toMatch(/expected a sub2api envelope/);

    server.use(
      http.get(`${BASE}/api/v1/admin/groups`, () =>
        ok({ items: [{ id: "one", name: "g" }], total: 1, page: 1, page_size: 20, pages: 1 }),
      ),
    );
    const shape = await hostError(adapter().listGroups());
    expect(shape.message).toMatch(/id should be a number, got string/);

    server.use(
      http.get(
        `${BASE}/api/v1/admin/system/version`,
        () => new HttpResponse("<html>login</html>", { status: 200 }),
      ),
    );
    expect((await hostError(adapter().getVersion())).kind).toBe("parse");
  });
});

describe("pagination", () => {
  it("lists to the end, trusting the host's pages rather than the requested size", async () => {
    const all = Array.from({ length: 45 }, (_, i) => ({
      id: i + 1,
      name: `g${i + 1}`,
      platform: "deepseek",
    }));
    const asked: string[] = [];
    server.use(
      http.get(`${BASE}/api/v1/admin/groups`, ({ request }) => {
        const url = new URL(request.url);
        asked.push(url.search);
        const page = Number(url.searchParams.get("page"));
        // a Dec 2025 build silently ignores page_size > 100 and uses 20
        const size = 20;
        const items = all.slice((page - 1) * size, page * size);
        return ok({ items, total: all.length, page, page_size: size, pages: Math.ceil(all.length / size) });
      }),
    );
    const groups = await adapter({ pageSize: 1000 }).listGroups({ search: "g" });
    expect(groups.map((g) => g.id)).toEqual(all.map((g) => g.id));
    expect(asked).toHaveLength(3);
    expect(asked[0]).toContain("page=1");
    expect(asked[0]).toContain("page_size=1000");
    expect(asked[0]).toContain("search=g");
  });
});

describe("retries and timeouts", () => {
  it("retries a read after a network error and a 5xx, then succeeds", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () => {
        calls++;
        if (calls === 1) return HttpResponse.error();
        if (calls === 2) return HttpResponse.json({ code: 500, message: "internal error" }, { status: 500 });
        return ok({ version: "0.1.126" });
      }),
    );
    await expect(adapter().getVersion()).resolves.toMatchObject({ version: "0.1.126" });
    expect(calls).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it("honours Retry-After on 429, for reads and for writes", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/admin/groups`, () => {
        calls++;
        if (calls === 1)
          return HttpResponse.json(
            { code: "RATE_LIMITED", message: "slow down" },
            { status: 429, headers: { "Retry-After": "2" } },
          );
        return ok({ id: 5, name: "g", platform: "deepseek" });
      }),
    );
    const g = await adapter().createGroup({
      name: "g",
      description: "",
      platform: "deepseek",
      subscriptionType: "subscription",
      rateMultiplier: 1,
      isExclusive: false,
    });
    expect(g.id).toBe(5);
    expect(sleeps).toEqual([2000]);
  });

  it("gives up when Retry-After is longer than it will wait", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () =>
        HttpResponse.json(
          { code: "RATE_LIMITED", message: "slow down" },
          { status: 429, headers: { "Retry-After": "3600" } },
        ),
      ),
    );
    const err = await hostError(adapter().getVersion());
    expect(err).toMatchObject({ status: 429, retryAfterMs: 3_600_000 });
    expect(sleeps).toEqual([]);
  });

  it("never retries a non-idempotent write after a 5xx or a reset", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/admin/groups`, () => {
        calls++;
        return HttpResponse.json({ code: 500, message: "internal error" }, { status: 500 });
      }),
    );
    const input = {
      name: "g",
      description: "",
      platform: "deepseek",
      subscriptionType: "subscription" as const,
      rateMultiplier: 1,
      isExclusive: false,
    };
    await hostError(adapter().createGroup(input));
    expect(calls).toBe(1);

    calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/admin/groups`, () => {
        calls++;
        return HttpResponse.error();
      }),
    );
    expect((await hostError(adapter().createGroup(input))).kind).toBe("network");
    expect(calls).toBe(1);
  });

  it("reads an account's credentials back without its key, also from a build that answers them as stored", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/accounts`, () =>
        ok({
          items: [
            {
              id: 9,
              name: "a",
              platform: "openai",
              // Dec 2025 builds answer credentials unredacted.
              credentials: {
                api_key: "sk-stored-secret",
                base_url: "https://api.deepseek.com",
                model_mapping: { m: "m" },
                api_protocol: "chat_completions",
              },
            },
          ],
          total: 1,
          page: 1,
          page_size: 1000,
          pages: 1,
        }),
      ),
    );
    const [a] = await adapter().listAccounts();
    expect(a?.hasApiKey).toBe(true);
    expect(a?.credentialFields).toEqual({
      base_url: "https://api.deepseek.com",
      model_mapping: { m: "m" },
      api_protocol: "chat_completions",
    });
    expect(JSON.stringify(a)).not.toContain("sk-stored-secret");
  });

  it("retries an account create only with an Idempotency-Key on a host that honours it", async () => {
    const keys: (string | null)[] = [];
    server.use(
      http.post(`${BASE}/api/v1/admin/accounts`, ({ request }) => {
        keys.push(request.headers.get("idempotency-key"));
        if (keys.length === 1)
          return HttpResponse.json({ code: 500, message: "internal error" }, { status: 500 });
        return ok({
          id: 9,
          name: "a",
          platform: "deepseek",
          credentials: { base_url: "https://api.deepseek.com" },
          credentials_status: { has_api_key: true },
        });
      }),
    );
    const input = {
      name: "a",
      notes: "",
      platform: "deepseek",
      apiKey: "sk-secret",
      baseUrl: "https://api.deepseek.com",
      modelMapping: { "deepseek-flash": "deepseek-flash" },
      concurrency: 2,
      priority: 50,
      groupIds: [3],
    };
    const created = await adapter({ idempotency: true }).createAccount(input, "idem-42");
    expect(created).toMatchObject({ id: 9, hasApiKey: true, baseUrl: "https://api.deepseek.com" });
    expect(keys).toEqual(["idem-42", "idem-42"]);

    keys.length = 0;
    await hostError(adapter({ idempotency: false }).createAccount(input, "idem-43"));
    expect(keys).toEqual(["idem-43"]);
  });

  it("a retry after a timeout met 409 IDEMPOTENCY_IN_PROGRESS and the account was marked failed: now the wait is honoured", async () => {
    const seen: string[] = [];
    server.use(
      http.post(`${BASE}/api/v1/admin/accounts`, () => {
        seen.push("create");
        // idempotency.go@3c800aaa: processing -> 409 with metadata.retry_after (conflictWithRetryAfter)
        if (seen.length === 1)
          return HttpResponse.json(
            {
              code: 409,
              message: "idempotent request is still processing",
              reason: "IDEMPOTENCY_IN_PROGRESS",
              metadata: { retry_after: "2" },
            },
            { status: 409 },
          );
        return ok({ id: 11, name: "a", platform: "deepseek", credentials_status: { has_api_key: true } });
      }),
    );
    const created = await adapter({ idempotency: true }).createAccount(
      {
        name: "a",
        notes: "",
        platform: "deepseek",
        apiKey: "sk-secret",
        baseUrl: "https://api.deepseek.com",
        modelMapping: {},
        concurrency: 2,
        priority: 50,
        groupIds: [3],
      },
      "idem-44",
    );
    expect(created.id).toBe(11);
    expect(seen).toEqual(["create", "create"]);
    expect(sleeps).toEqual([2000]);
  });

  it("times out a host that does not answer", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, async () => {
        await new Promise((r) => setTimeout(r, 1_000));
        return ok({ version: "late" });
      }),
    );
    const err = await hostError(adapter({ maxRetries: 0 }).getVersion());
    expect(err.kind).toBe("timeout");
    expect(err.message).toMatch(/within 200 ms/);
  });
});

describe("account test stream", () => {
  it("succeeds on test_complete success:true and fails on an error event, both HTTP 200", async () => {
    server.use(
      http.post(`${BASE}/api/v1/admin/accounts/1/test`, async ({ request }) => {
        expect(await request.json()).toEqual({ model_id: "deepseek-flash" });
        return new HttpResponse(
          'data: {"type":"test_start","model":"deepseek-flash"}\n\ndata: {"type":"content","text":"hi"}\n\ndata: {"type":"test_complete","success":true}\n\n',
          { headers: { "content-type": "text/event-stream" } },
        );
      }),
      http.post(
        `${BASE}/api/v1/admin/accounts/2/test`,
        () =>
          new HttpResponse(
            'data: {"type":"test_start"}\n\ndata: {"type":"error","error":"API returned 401: invalid key"}\n\n',
          ),
      ),
    );
    await expect(adapter().testAccount(1, "deepseek-flash")).resolves.toMatchObject({
      success: true,
      model: "deepseek-flash",
      text: "hi",
    });
    await expect(adapter().testAccount(2, "deepseek-flash")).resolves.toMatchObject({
      success: false,
      error: "API returned 401: invalid key",
    });
  });

  it("reads an event whose data spans several lines, CRLF endings, comments and a last event without its blank line", async () => {
    server.use(
      http.post(
        `${BASE}/api/v1/admin/accounts/3/test`,
        () =>
          new HttpResponse(
            ': keep-alive\r\nevent: message\r\ndata: {"type":"content",\r\ndata: "text":"multi"}\r\n\r\ndata: {"type":"test_complete",\ndata:"success":true,\ndata: "model":"m2"}',
            { headers: { "content-type": "text/event-stream" } },
          ),
      ),
    );
    await expect(adapter().testAccount(3, "deepseek-flash")).resolves.toMatchObject({
      success: true,
      model: "m2",
      text: "multi",
    });
  });
});

describe("capability probe", () => {
  it("uses only reads and writes the host must refuse, and reads a Dec 2025 host correctly", async () => {
    const seen: { method: string; path: string; body: string }[] = [];
    const ginNotFound = () =>
      new HttpResponse("404 page not found", { status: 404, headers: { "content-type": "text/plain" } });
    const page = (items: unknown[], size = 20) =>
      ok({ items, total: items.length, page: 1, page_size: size, pages: 1 });
    server.use(
      http.all(`${BASE}/*`, async ({ request }) => {
        seen.push({
          method: request.method,
          path: new URL(request.url).pathname,
          body: await request.clone().text(),
        });
        return undefined; // fall through to the specific handlers
      }),
      http.get(`${BASE}/api/v1/settings/public`, () => ok({ version: "0.1.1", registration_enabled: false })),
      http.get(`${BASE}/api/v1/admin/system/version`, () => ok({ version: "0.1.1" })),
      http.get(`${BASE}/api/v1/admin/groups`, () => page([])),
      http.get(`${BASE}/api/v1/admin/accounts`, () => page([])),
      http.get(`${BASE}/api/v1/admin/subscriptions`, () => page([])),
      http.get(`${BASE}/api/v1/admin/users`, () => page([])),
      http.post(`${BASE}/api/v1/admin/accounts/probe/test`, () =>
        HttpResponse.json({ code: 400, message: "Invalid account ID" }, { status: 400 }),
      ),
      http.get(`${BASE}/api/v1/admin/accounts/probe/models`, () =>
        HttpResponse.json({ code: 400, message: "Invalid account ID" }, { status: 400 }),
      ),
      http.post(`${BASE}/api/v1/admin/accounts/batch`, () =>
        HttpResponse.json({ code: 400, message: "Invalid request: Accounts min" }, { status: 400 }),
      ),
      http.post(`${BASE}/api/v1/admin/groups`, async ({ request }) => {
        const body = (await request.json()) as { platform?: string; name?: string };
        expect(body.name).toBeUndefined();
        const tail = ["anthropic", "openai", "gemini"].includes(body.platform ?? "")
          ? ""
          : "\nKey: 'CreateGroupRequest.Platform' Error:Field validation for 'Platform' failed on the 'oneof' tag";
        return HttpResponse.json(
          {
            code: 400,
            message: `Invalid request: Key: 'CreateGroupRequest.Name' Error:Field validation for 'Name' failed on the 'required' tag${tail}`,
          },
          { status: 400 },
        );
      }),
      http.post(`${BASE}/api/v1/auth/login`, () =>
        HttpResponse.json({ code: 400, message: "Invalid request" }, { status: 400 }),
      ),
      http.get(`${BASE}/api/v1/keys`, () =>
        HttpResponse.json({ code: "UNAUTHORIZED", message: "Authorization required" }, { status: 401 }),
      ),
      http.all(`${BASE}/*`, ginNotFound),
    );
    const report = await adapter().probeCapabilities();
    expect(report.version).toBe("0.1.1");
    expect(report.maxPageSize).toBe(100);
    expect(report.blockers).toEqual([]);
    expect(report.capabilities).toMatchObject({
      groups: true,
      accounts: true,
      account_test: true,
      account_models: true,
      subscriptions: true,
      channels: false,
      plans: false,
      batch_create: true,
      batch_delete: false,
      models_sync: false,
      models_preview: false,
      chat_completions: false,
      user_login: true,
      user_keys: true,
      idempotency: false,
      cn_platforms: [],
    });
    // Every write the probe sends is one the host must refuse at validation.
    for (const r of seen.filter((s) => s.method !== "GET")) {
      const body = r.body === "" ? {} : JSON.parse(r.body);
      const refusable =
        (r.path === "/api/v1/admin/groups" && body.name === undefined) ||
        r.path.includes("/accounts/probe/") ||
        (r.path.endsWith("/models/sync-upstream-preview") && body.api_key === undefined) ||
        (r.path.endsWith("/accounts/batch") && Array.isArray(body.accounts) && body.accounts.length === 0) ||
        (r.path.endsWith("/batch-delete") && body.account_ids === undefined) ||
        (r.path === "/api/v1/auth/login" && body.email === undefined) ||
        r.path === "/v1/chat/completions";
      expect(refusable, `${r.method} ${r.path} ${r.body}`).toBe(true);
    }
  });

  it("records compliance and step-up blockers instead of failing", async () => {
    server.use(
      http.get(`${BASE}/api/v1/settings/public`, () => ok({ version: "0.1.126", payment_enabled: true })),
      http.get(`${BASE}/api/v1/admin/*`, () =>
        HttpResponse.json(
          {
            code: "ADMIN_COMPLIANCE_ACK_REQUIRED",
            message: "ack",
            metadata: { version: "v2026.06.10", document_url_en: "https://example/doc" },
          },
          { status: 423 },
        ),
      ),
    );
    const locked = await adapter().probeCapabilities();
    expect(locked).toMatchObject({
      version: "0.1.126",
      versionSource: "public",
      blockers: ["compliance_ack_required"],
    });
    expect(locked.compliance).toMatchObject({
      required: true,
      version: "v2026.06.10",
      documentUrlEn: "https://example/doc",
    });
  });
});

describe("subscription assign after a lost answer", () => {
  const tag = "managed-by=sub2api-cn-relay-manager install=0a1b2c3d provider=deepseek batch=b_1";
  const conflict = () =>
    HttpResponse.json(
      { code: 409, message: "subscription already exists", reason: "SUBSCRIPTION_ALREADY_EXISTS" },
      { status: 409 },
    );
  const list = (notes: string) =>
    http.get(`${BASE}/api/v1/admin/subscriptions`, ({ request }) => {
      const url = new URL(request.url);
      expect(url.searchParams.get("user_id")).toBe("7");
      expect(url.searchParams.get("group_id")).toBe("3");
      return ok({
        items: [{ id: 41, user_id: 7, group_id: 3, status: "active", notes }],
        total: 1,
        page: 1,
        page_size: 20,
        pages: 1,
      });
    });

  it("a 409 for the subscription this same request made (same notes) is its success", async () => {
    server.use(http.post(`${BASE}/api/v1/admin/subscriptions/assign`, conflict), list(tag));
    await expect(
      adapter().assignSubscription({ userId: 7, groupId: 3, validityDays: 30, notes: tag }),
    ).resolves.toMatchObject({ kind: "assigned", subscription: { id: 41, notes: tag } });
  });

  it("a 409 for someone else's subscription stays a conflict", async () => {
    server.use(http.post(`${BASE}/api/v1/admin/subscriptions/assign`, conflict), list("bought by the user"));
    await expect(
      adapter().assignSubscription({ userId: 7, groupId: 3, validityDays: 30, notes: tag }),
    ).resolves.toMatchObject({ kind: "conflict", code: "SUBSCRIPTION_ALREADY_EXISTS" });
  });
});
