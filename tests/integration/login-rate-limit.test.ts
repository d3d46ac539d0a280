/**
 * sub2api's login limiter, met live on 67380eafd: `POST /api/v1/auth/login` is limited to 20 a
 * minute per IP, fail-close, and answers 429 `{"error":"rate limit exceeded","message":…}` (not
 * the envelope) with the window's remaining time as Retry-After — up to 60 s
 * (routes/auth.go:38, middleware/rate_limiter.go:100-107,164-181 @67380eafd). A live operator
 * flow (import, reconcile, rollback in one minute) logs the probe user in more than 20 times; a
 * rollback then failed ROLLBACK_INCOMPLETE because relay waited out at most 30 s. Builds before
 * 0.1.166 (fead4c7ec; met live on 0.1.150 9a2f11b4e) send no Retry-After at all, and relay's short
 * backoff met the same refusal twice.
 */
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HostError, Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

describe("the simulator's login limiter answers as the real host does", () => {
  let s: RunningSim;
  afterEach(async () => s?.close());

  it("past loginRpm, 429 with gin.H{error, message} and the window's rest as Retry-After", async () => {
    s = await startSimulator({ loginRpm: 2 });
    const login = () =>
      fetch(`${s.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
      });
    // The limiter counts every attempt, wrong password included (it runs before the handler).
    expect((await login()).status).toBe(401);
    expect((await login()).status).toBe(401);
    const third = await login();
    expect(third.status).toBe(429);
    expect(await third.json()).toEqual({
      error: "rate limit exceeded",
      message: "Too many requests, please try again later",
    });
    const wait = Number(third.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it("a 0.1.150 build answers the same 429 with no Retry-After (before fead4c7ec, 0.1.166)", async () => {
    s = await startSimulator({ profile: "v0.1.150", loginRpm: 1 });
    const login = () =>
      fetch(`${s.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
      });
    expect((await login()).status).toBe(401);
    const second = await login();
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBeNull();
  });

  it("without loginRpm the simulator does not limit logins", async () => {
    s = await startSimulator({});
    for (let i = 0; i < 25; i++) {
      const r = await fetch(`${s.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
      });
      expect(r.status).toBe(401);
    }
  });
});

describe("relay waits out the login limiter's window", () => {
  const BASE = "https://sub2api.test";
  const server = setupServer();
  const sleeps: number[] = [];
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => {
    server.resetHandlers();
    sleeps.length = 0;
  });
  afterAll(() => server.close());
  const adapter = () =>
    new Sub2apiAdapter({
      baseUrl: BASE,
      adminKey: `admin-${"ab".repeat(32)}`,
      timeoutMs: 200,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  const limited = (seconds: number) =>
    HttpResponse.json(
      { error: "rate limit exceeded", message: "Too many requests, please try again later" },
      { status: 429, headers: { "Retry-After": String(seconds) } },
    );

  it("a login answered 429 with Retry-After 60 is retried after 60 s and succeeds", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/auth/login`, () => {
        calls++;
        if (calls === 1) return limited(60);
        return HttpResponse.json({
          code: 0,
          message: "success",
          data: { access_token: "jwt.x", user: { id: 7 } },
        });
      }),
    );
    const out = await adapter().login("probe@relay.invalid", "pw");
    expect(out).toEqual({ kind: "ok", session: { accessToken: "jwt.x", userId: 7 } });
    expect(sleeps).toEqual([60_000]);
  });

  it("a login answered 429 with no Retry-After (builds before 0.1.166) waits out the whole window", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v1/auth/login`, () => {
        calls++;
        if (calls === 1)
          return HttpResponse.json(
            { error: "rate limit exceeded", message: "Too many requests, please try again later" },
            { status: 429 },
          );
        return HttpResponse.json({
          code: 0,
          message: "success",
          data: { access_token: "jwt.y", user: { id: 8 } },
        });
      }),
    );
    const out = await adapter().login("probe@relay.invalid", "pw");
    expect(out).toMatchObject({ kind: "ok" });
    expect(sleeps).toEqual([60_000]);
  });

  it("other calls still give up on a Retry-After past 30 s; a login past the window too", async () => {
    server.use(
      http.get(`${BASE}/api/v1/admin/system/version`, () => limited(60)),
      http.post(`${BASE}/api/v1/auth/login`, () => limited(61)),
    );
    await expect(adapter().getVersion()).rejects.toBeInstanceOf(HostError);
    await expect(adapter().login("probe@relay.invalid", "pw")).rejects.toMatchObject({
      status: 429,
      retryAfterMs: 61_000,
    });
    expect(sleeps).toEqual([]);
  });
});
