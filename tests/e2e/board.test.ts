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
const qwenKeys = [deepseekKey(), deepseekKey()]; // qwen's key pattern is DeepSeek's
/** The providers' cards in the order the page shows them. */
async function cardOrder(page: Page): Promise<(string | null)[]> {
  const cards = await page.locator("article[data-provider]").all();
  return Promise.all(cards.map((c) => c.getAttribute("data-provider")));
}
const count = (page: Page, state: string) => page.locator(`#summary [data-count=${state}] .n`).textContent();
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
    // Two more providers, for the summary and the severity order: kimi stays healthy, qwen loses
    // its keys one by one (qwen sorts after kimi by name, before it by severity).
    for (const [provider, ks] of [
      ["kimi", [deepseekKey()]],
      ["qwen", qwenKeys],
    ] as const) {
      const file = join(w.t.dir, `${provider}.keys`);
      writeFileSync(file, `${ks.join("\n")}\n`);
      const r = await runRelay(
        ["provider", "import", provider, "--host", "sim", "--keys-file", file, "--mode", "strict", "--yes"],
        { env: w.t.env, timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
    }

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
    const policy = card.locator(".policy-cell").first();
    expect(await policy.locator(".badge").getAttribute("data-status")).toBe("unknown");
    expect(await policy.textContent()).toMatch(/observe mode/);
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
    // Each key's class from its provider's answer; the revoked one says what to do.
    expect(
      await page
        .locator("#batch-keys .key-class")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-class")).sort()),
    ).toEqual(["ready", "revoked"]);
    expect(await page.locator("#batch-keys .key-class[data-class=revoked]").textContent()).toMatch(
      /replace the key/,
    );
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
    const account = w.sim.sim.state.liveAccounts().find((a) => a.name.startsWith("deepseek-"));
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

  it("sums up what is broken, shows the worst first, and filters by text and state", async () => {
    w.sim.sim.upstream.revoke(qwenKeys[0] as string);
    const rec = await runRelay(["reconcile", "run", "--all"], { env: w.t.env, timeoutMs: 60_000 });
    expect(rec.code, rec.stderr).toBe(2);
    const page = await newPage();
    await signIn(page);
    await page.goto(`${base}/#/providers`);
    await page.locator("article[data-provider=kimi]").waitFor();
    // deepseek: its one account deleted (down, out of sync); qwen: 1 of 2 keys revoked (degraded).
    expect(await count(page, "down")).toBe("1");
    expect(await count(page, "degraded")).toBe("1");
    expect(await count(page, "out_of_sync")).toBe("1");
    expect(await count(page, "unreachable")).toBe("0");
    expect(await cardOrder(page)).toEqual(["deepseek", "qwen", "kimi"]); // not alphabetical
    const qwen = page.locator("article[data-provider=qwen]");
    expect(await qwen.locator(".health-cell .badge").getAttribute("data-status")).toBe("degraded");
    expect(await qwen.locator(".health-cell .reason").textContent()).toMatch(/1 of 2 account\(s\) unusable/);
    expect(await qwen.locator(".sync-cell .badge").getAttribute("data-status")).toBe("in_sync");
    const deepseek = page.locator("article[data-provider=deepseek]");
    expect(await deepseek.locator(".health-cell .badge").getAttribute("data-status")).toBe("down");
    expect(await deepseek.locator(".sync-cell .badge").getAttribute("data-status")).toBe("out_of_sync");

    await page.locator("#filter").fill("KIM");
    expect(await cardOrder(page)).toEqual(["kimi"]);
    await page.locator("#filter").fill("sim"); // the host's name matches every provider on it
    expect(await cardOrder(page)).toEqual(["deepseek", "qwen", "kimi"]);
    await page.locator("#filter").fill("");
    await page.locator("#state").selectOption("degraded");
    expect(await cardOrder(page)).toEqual(["qwen"]);
    await page.locator("#state").selectOption("");
    await page.locator("#summary [data-count=down]").click(); // a count is a filter
    expect(await cardOrder(page)).toEqual(["deepseek"]);
    expect(await page.locator("#state").inputValue()).toBe("down");
    await page.locator("#filter").fill("nothing-like-this");
    expect(await page.locator("#no-match").count()).toBe(1);
    await shot(page, "5a-providers-triage");
    await page.context().close();
  });

  it("refreshes without a reload: a change on the host shows with the time it was read; the pause button toggles", async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${base}/#/providers?every=2`);
    const qwen = page.locator("article[data-provider=qwen]");
    await qwen.waitFor();
    expect(await qwen.locator(".health-cell .badge").getAttribute("data-status")).toBe("degraded");
    await page.evaluate("window.__sameDocument = 1");
    const before = (await page.locator("#updated").getAttribute("datetime")) ?? "";
    expect(before).toMatch(/^\d{4}-/);
    // qwen's last key revoked upstream; the next reconcile finds it; the open page shows it.
    w.sim.sim.upstream.revoke(qwenKeys[1] as string);
    const rec = await runRelay(["reconcile", "run", "qwen", "--host", "sim"], {
      env: w.t.env,
      timeoutMs: 60_000,
    });
    expect(rec.code, rec.stderr).toBe(2);
    // The run records its gateway proof before its findings: a refresh between the two reads
    // down for the failed proof; the settled verdict names the cause (every account unusable).
    await qwen
      .locator(".health-cell[data-code=all_accounts_unusable] .badge[data-status=down]")
      .waitFor({ timeout: 60_000 });
    expect(await page.evaluate("window.__sameDocument")).toBe(1); // no reload
    expect(((await page.locator("#updated").getAttribute("datetime")) ?? "") > before).toBe(true);
    expect(await qwen.locator(".health-cell").getAttribute("data-code")).toBe("all_accounts_unusable");
    expect(await count(page, "down")).toBe("2");
    await page.locator("#pause").click();
    expect(await page.locator("#pause").getAttribute("aria-pressed")).toBe("true");
    expect(await page.locator("#pause").textContent()).toBe("Resume");
    expect(await page.locator("#live-note").textContent()).toBe("paused");
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
    // New labels, and Chinese sentences for the reason codes (the free text stays as it is).
    expect(text).toContain("哪里出了问题");
    expect(text).toContain("未同步");
    expect(text).toContain("所有账号都不可用");
    expect(text).toContain("all 2 account(s) unusable");
    expect(await page.locator("#pause").textContent()).toBe("暂停");
    expect(await page.locator("label[for=filter]").textContent()).toBe("筛选");
    await shot(page, "6-providers-phone-zh");
    await page.goto(`${base}/#/drift`);
    await page.locator("article[data-provider=deepseek][data-host=sim]").waitFor();
    expect((await page.locator("main").textContent()) ?? "").toContain("记录中的资源已不在主机上");
    const driftWidths = await page.evaluate<number[]>(WIDTHS);
    expect(driftWidths[0]).toBeLessThanOrEqual(driftWidths[1] as number);
    await page.goto(`${base}/#/batches/${batchId}`);
    await page.locator("#batch-keys").waitFor();
    const batchWidths = await page.evaluate<number[]>(WIDTHS);
    expect(batchWidths[0]).toBeLessThanOrEqual(batchWidths[1] as number);
    expect((await page.locator("#batch").textContent()) ?? "").toContain("主机上的现状");
    await page.goto(`${base}/#/hosts`);
    await page.locator("#hosts").waitFor();
    const hostWidths = await page.evaluate<number[]>(WIDTHS);
    expect(hostWidths[0]).toBeLessThanOrEqual(hostWidths[1] as number);
    await shot(page, "7-batch-phone-zh");
    await page.context().close();
  });

  it("a host that stops answering shows unreachable on the open hosts page after one probe", async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${base}/#/hosts?every=2`);
    const row = page.locator("#hosts tbody tr").first();
    await row.locator(".host-state .badge[data-status=supported]").waitFor();
    await w.sim.close();
    const probe = await runRelay(["host", "probe", "sim"], { env: w.t.env, timeoutMs: 60_000 });
    expect(probe.code).toBe(1);
    await row.locator(".host-state .badge[data-status=unreachable]").waitFor({ timeout: 60_000 });
    expect(await row.locator(".last-error").textContent()).toMatch(/HOST_UNREACHABLE/);
    await page.goto(`${base}/#/providers`);
    await page.locator("article[data-provider=kimi]").waitFor();
    expect(await count(page, "unreachable")).toBe("1");
    const kimi = page.locator("article[data-provider=kimi]");
    expect(await kimi.locator(".health-cell").getAttribute("data-code")).toBe("host_unreachable");
    await shot(page, "8-host-unreachable");
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
