/**
 * The status board in a real browser: Debian's Chromium driven by playwright-core, against
 * `relay serve` as a process, after a real flow against the simulator (import with a revoked key,
 * access proven by a gateway call, an account deleted on the host, reconcile finding it).
 *
 * Screenshots are kept in test-artifacts/board/. Without Chromium the test is skipped with a loud
 * message, unless RELAY_REQUIRE_BROWSER=1 (set by .ci/run, which installs it), where it fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

const CHROMIUM = process.env.RELAY_TEST_CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  if (process.env.RELAY_REQUIRE_BROWSER === "1")
    throw new Error(
      `RELAY_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}: apt-get install chromium`,
    );
  console.warn(
    `\n${"!".repeat(78)}\n!! BOARD BROWSER TEST SKIPPED: no Chromium at ${CHROMIUM}.\n` +
      `!! Install it (apt-get install chromium) or set RELAY_TEST_CHROMIUM. CI installs it.\n${"!".repeat(78)}\n`,
  );
}

/** Evaluated in the page (strings: the tests' TypeScript has no DOM types). */
const WIDTHS = "[document.documentElement.scrollWidth, window.innerWidth]";
const SHOTS = join(projectRoot(), "test-artifacts", "board");
/** What a hostile upstream answers for the revoked key; sub2api passes it on, relay records it. */
const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;

let w: World;
let serve: ChildProcess;
let serveLog = "";
let base = "";
let browser: Browser;
let batchId = "";
let deletedAccount = "";
const requests: string[] = [];
const problems: string[] = [];

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`relay serve never answered ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newPage(viewport = { width: 1280, height: 900 }, locale = "en-US"): Promise<Page> {
  const context = await browser.newContext({ viewport, locale });
  context.on("request", (r) => {
    requests.push(r.url());
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return page;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/`);
  await page.locator("#token").fill(TEST_API_TOKEN);
  await page.locator("form.signin button[type=submit]").click();
  await page.locator("main[data-page=hosts]").waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!haveBrowser)("the web status board in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    w = await makeWorld({ profile: "cn-native" });
    // The flow of `npm run demo`: two keys, one revoked upstream, a subscribed user, access proven.
    const [good, revoked] = [deepseekKey(), deepseekKey()];
    const upstream = w.sim.sim.upstream;
    upstream.revoke(revoked);
    const realPost = upstream.post.bind(upstream);
    upstream.post = (url, apiKey, model) =>
      apiKey === revoked
        ? { ok: false, status: 401, body: JSON.stringify({ error: { message: HOSTILE, type: "auth" } }) }
        : realPost(url, apiKey, model);
    const keys = join(w.t.dir, "keys.txt");
    writeFileSync(keys, `${good}\n${revoked}\n`);
    const user = w.sim.sim.state.addUser({ email: "mei@example.com", password: "mei-board-password" });
    const imp = await runRelay(
      [
        "--json",
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keys,
        "--mode",
        "partial",
        "--no-precheck", // each key's account test decides: the hostile answer reaches the batch
        "--access-mode",
        "subscription",
        "--subscribe",
        `${user.id}:30`,
        "--yes",
      ],
      { env: w.t.env, timeoutMs: 60_000 },
    );
    expect(imp.code, imp.stderr).toBe(3);
    const result = JSON.parse(imp.stdout) as { batch_id: string; provider_status: string };
    expect(result.provider_status).toBe("active");
    batchId = result.batch_id;

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    serve = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        ...w.t.env,
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_LOG_LEVEL: "debug",
        PATH: process.env.PATH ?? "",
      },
    });
    serve.stdout?.on("data", (d) => {
      serveLog += d;
    });
    serve.stderr?.on("data", (d) => {
      serveLog += d;
    });
    await waitReady(`${base}/readyz`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    serve?.kill("SIGKILL");
    await w?.close();
  });

  it("serves the board with a strict Content-Security-Policy and no data without the token", async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//); // no CDN, no external font or script
    expect((await fetch(`${base}/api/hosts`)).status).toBe(401);
  });

  it("signs in and shows the host: version, profile, status, capabilities, last probe", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.locator("form.signin").waitFor();
    expect(await page.locator("main").count()).toBe(0); // no data before sign-in
    await page.locator("#token").fill("wrong-token");
    await page.locator("form.signin button[type=submit]").click();
    await page.locator("form.signin .error").waitFor();
    expect(await page.locator("form.signin .error").textContent()).toContain("refused");
    await signIn(page);
    const row = page.locator("#hosts tbody tr").first();
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("sim");
    expect(text).toContain("0.1.179");
    expect(text).toContain("chat_completions");
    expect(text).toMatch(/ago|now/); // relative time …
    expect(await row.locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/); // … and absolute
    expect(await row.locator(".badge[data-status=supported]").first().textContent()).toContain("supported");
    expect(await row.locator("code.cmd").first().textContent()).toBe("relay host probe sim");
    await shot(page, "1-hosts");
    await page.context().close();
  });

  it("shows the provider active with access proven by a gateway call, and the batch per key", async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${base}/#/providers`);
    const card = page.locator("article[data-provider=deepseek]");
    await card.waitFor();
    expect(await card.locator(".status-cell .badge").first().getAttribute("data-status")).toBe("active");
    const access = (await card.locator(".access-cell").first().textContent()) ?? "";
    expect(access).toMatch(/HTTP 200 · model deepseek-flash · latency \d+ ms/);
    expect(await card.locator(".access-cell .badge").first().getAttribute("data-status")).toBe(
      "subscription_ready",
    );
    // The health policy: no run yet (unknown), observe mode, and the command that shows it.
    const health = card.locator(".health-cell").first();
    expect(await health.locator(".badge").getAttribute("data-status")).toBe("unknown");
    expect(await health.textContent()).toMatch(/observe mode/);
    expect(await card.locator("details.action code.cmd").allTextContents()).toContain(
      "relay provider policy deepseek --host sim",
    );
    await shot(page, "2-providers-active");

    await card.locator(`a[href="#/batches/${batchId}"]`).click();
    await page.locator("main[data-page=batches]").waitFor();
    const keys = page.locator("#batch-keys tbody tr");
    expect(await keys.count()).toBe(2);
    const rows = await keys.allTextContents();
    expect(rows.some((r) => /sk-…[0-9a-f]{4}/.test(r) && /tested/.test(r) && /#\d+/.test(r))).toBe(true);
    expect(rows.some((r) => /failed/.test(r) && /401/.test(r))).toBe(true);
    // The hostile upstream's answer is shown as text, never run or rendered as markup.
    expect(rows.some((r) => r.includes("<img src=x"))).toBe(true);
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    const resources = (await page.locator("#batch-resources").textContent()) ?? "";
    expect(resources).toMatch(/group/);
    expect(resources).toMatch(/account/);
    const rollback = page.locator("details.action code.cmd");
    expect(await rollback.allTextContents()).toContain(`relay batch rollback ${batchId} --dry-run`);
    await shot(page, "3-batch");
    await page.context().close();
  });

  it("after an account is deleted on the host and reconcile runs: drifted, with the finding and what --heal does", async () => {
    const account = w.sim.sim.state.liveAccounts()[0];
    expect(account).toBeDefined();
    if (!account) return;
    account.deletedAt = Date.now();
    deletedAccount = account.name;
    const rec = await runRelay(["provider", "reconcile", "deepseek", "--host", "sim"], {
      env: w.t.env,
      timeoutMs: 60_000,
    });
    expect(rec.code, rec.stderr).toBe(2);

    const page = await newPage();
    await signIn(page);
    await page.goto(`${base}/#/providers`);
    const card = page.locator("article[data-provider=deepseek]");
    await card.waitFor();
    expect(await card.locator(".status-cell .badge").first().getAttribute("data-status")).toBe("drifted");
    await shot(page, "4-providers-drifted");

    await page.goto(`${base}/#/drift`);
    const drift = page.locator("article[data-provider=deepseek][data-host=sim]");
    await drift.waitFor();
    const finding = (await drift.locator("table.findings tbody tr").allTextContents()).find((r) =>
      r.includes(deletedAccount),
    );
    expect(finding).toMatch(/missing/);
    expect(finding).toMatch(/import the key again/);
    expect(await drift.locator("code.cmd").allTextContents()).toContain(
      "relay reconcile run deepseek --host sim --heal",
    );
    await shot(page, "5-drift");
    await page.context().close();
  });

  it("fits a phone width and reads in Chinese", async () => {
    const page = await newPage({ width: 390, height: 844 }, "zh-CN");
    await signIn(page);
    await page.goto(`${base}/#/providers`);
    await page.locator("article[data-provider=deepseek]").waitFor();
    const widths = await page.evaluate<number[]>(WIDTHS);
    expect(widths[0]).toBeLessThanOrEqual(widths[1] as number);
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("供应商");
    expect(text).toContain("已漂移");
    await shot(page, "6-providers-phone-zh");
    await page.goto(`${base}/#/batches/${batchId}`);
    await page.locator("#batch-keys").waitFor();
    const batchWidths = await page.evaluate<number[]>(WIDTHS);
    expect(batchWidths[0]).toBeLessThanOrEqual(batchWidths[1] as number);
    await shot(page, "7-batch-phone-zh");
    await page.context().close();
  });

  it("no request left the origin; the token is in no URL, page source, cookie or log line", async () => {
    const origin = new URL(base).origin;
    expect(requests.length).toBeGreaterThan(10);
    const elsewhere = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requests.filter((u) => u.includes(TEST_API_TOKEN))).toEqual([]);
    const page = await newPage();
    await signIn(page);
    expect(await page.content()).not.toContain(TEST_API_TOKEN);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate('localStorage.getItem("relay.board.token")')).toBeNull();
    await page.context().close();
    expect(serveLog).toContain('"path":"/api/hosts"'); // the access log saw the board's calls …
    expect(serveLog).not.toContain(TEST_API_TOKEN); // … and never the token
    // On PostgreSQL the log names the store, never the password in RELAY_DATABASE_URL.
    const dbPassword = w.t.env.RELAY_DATABASE_URL ? new URL(w.t.env.RELAY_DATABASE_URL).password : "";
    if (dbPassword) {
      expect(serveLog).toMatch(/"store":"postgres:\/\/relay@/);
      expect(serveLog).not.toContain(dbPassword);
    }
    // No CSP violation and no script error; the one 401 is the wrong token the sign-in test typed.
    const expected401 = /Failed to load resource: .*401/;
    expect(problems.filter((p) => expected401.test(p))).toHaveLength(1);
    expect(problems.filter((p) => !expected401.test(p))).toEqual([]);
  });
});
