/**
 * The reliability and security suites (issue: "fault and crash injection, hostile input, secrets").
 * Used twice: a fast subset inside `npm test`, and at full size by `npm run test:reliability`,
 * which prints the figures. Every suite runs the real services, CLI, SQLite and simulator.
 */

import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Writable } from "node:stream";
import { sql } from "kysely";
import { createApp } from "../../src/api/http/app.js";
import { type AppContext, createContext } from "../../src/app/context.js";
import { isAppError } from "../../src/domain/errors.js";
import { Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { importKeys } from "../../src/provision/import.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { getBatchRow } from "../../src/store/batches.js";
import { createLogger } from "../../src/util/logger.js";
import { projectRoot } from "../../src/util/paths.js";
import { hostileArchives } from "../fixtures/packs/hostile.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { row, rowCount, rows, TEST_API_TOKEN } from "../helpers/context.js";
import { checkConsistency } from "../helpers/invariants.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

export function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Everything secret the suites used, and everything they saw, to be searched at the end. */
export class SecretLedger {
  readonly secrets = new Set<string>();
  readonly texts: string[] = [];
  /** Relay's state files, as they were when their world closed: [path, contents]. */
  readonly files: [string, string][] = [];

  secret(value: string) {
    if (value.length >= 8) this.secrets.add(value);
  }
  text(value: string) {
    this.texts.push(value);
  }
  /** Provider keys, admin token and probe passwords of a simulated host. */
  fromWorld(w: World) {
    this.fromSim(w.sim, w.t.dir);
  }
  /** The simulated host's secrets, and relay's state files in `dir` to be searched for them. */
  fromSim(sim: World["sim"], dir: string) {
    this.secret(sim.sim.state.adminApiKey);
    for (const u of sim.sim.state.users.values())
      if (u.email.startsWith("relay-probe-")) this.secret(u.password);
    for (const k of sim.sim.state.apiKeys.values()) this.secret(k.key);
    for (const a of sim.sim.state.accounts.values())
      if (typeof a.credentials.api_key === "string") this.secret(a.credentials.api_key);
    // Read now: the world's directory is removed when it closes, before the scan at the end.
    for (const f of readdirSync(dir)) {
      if (!/relay\.db/.test(f)) continue;
      this.files.push([join(dir, f), readFileSync(join(dir, f)).toString("latin1")]);
    }
  }
  scan(): { found: number; where: string[] } {
    const where: string[] = [];
    const contents: [string, string][] = [
      ...this.texts.map((t, i): [string, string] => [`output #${i}`, t]),
      ...this.files,
    ];
    for (const s of this.secrets)
      for (const [name, text] of contents)
        if (text.includes(s)) where.push(`${name} holds ${s.slice(0, 4)}…`);
    return { found: where.length, where };
  }
}

/** A context whose host client gives up quickly, and whose logs are captured. */
export async function fastContext(w: World, ledger: SecretLedger): Promise<AppContext> {
  const sink = new Writable({
    write(chunk, _e, done) {
      ledger.text(String(chunk));
      done();
    },
  });
  return await createContext({
    db: w.t.ctx.db,
    config: w.t.ctx.config,
    logger: createLogger("debug", sink),
    hostAdapter: (o) =>
      new Sub2apiAdapter({ ...o, timeoutMs: 400, baseBackoffMs: 5, maxRetries: 2, maxRetryAfterMs: 2000 }),
  });
}

export interface FaultFigures {
  operations: number;
  failedOperations: number;
  orphans: number;
  lostRecords: number;
  unfinished: number;
  aliveAfterRollback: number;
  duplicateCreates: number;
  problems: string[];
}

/**
 * Imports (strict and partial), rollbacks and reconciles under injected 5xx, resets, 429 with
 * Retry-After, dropped (timed-out) requests and slow answers on every route. After each operation
 * the faults stop, interrupted work is finished the way an operator would (recover, re-run the
 * rollback), and the store is compared with the host.
 */
export async function faultSuite(
  operations: number,
  seed: number,
  ledger: SecretLedger,
): Promise<FaultFigures> {
  const random = mulberry32(seed);
  const w = await makeWorld({ profile: "cn-native" });
  const ctx = await fastContext(w, ledger);
  const figures: FaultFigures = {
    operations: 0,
    failedOperations: 0,
    orphans: 0,
    lostRecords: 0,
    unfinished: 0,
    aliveAfterRollback: 0,
    duplicateCreates: 0,
    problems: [],
  };
  const batches: string[] = [];
  try {
    for (let i = 0; i < operations; i++) {
      w.sim.sim.options.faults = {
        errorRate: 0.08,
        resetRate: 0.04,
        rateLimitRate: 0.05,
        retryAfterSeconds: random() < 0.8 ? 0 : 1,
        hangRate: 0.02,
        hangMs: 600,
        slowMs: 30,
        seed: seed * 1000 + i,
      };
      const roll = random();
      const provider = random() < 0.7 ? "deepseek" : "kimi";
      figures.operations += 1;
      try {
        if (roll < 0.55 || batches.length === 0) {
          const keys = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
            provider === "kimi" ? `sk-${deepseekKey().slice(3)}${"k".repeat(8)}` : deepseekKey(),
          );
          if (random() < 0.3 && keys[0]) w.sim.sim.upstream.revoke(keys[0]);
          for (const k of keys) ledger.secret(k);
          const r = await importKeys(ctx, {
            hostRef: "sim",
            providerId: provider,
            keys,
            mode: random() < 0.5 ? "strict" : "partial",
            ...(random() < 0.5 ? { accessMode: "subscription" as const } : {}),
          });
          ledger.text(JSON.stringify(r));
          batches.push(r.batch_id);
          if (r.status === "rolled_back" || r.status === "failed") figures.failedOperations += 1;
        } else if (roll < 0.8) {
          const r = await reconcileProvider(
            ctx,
            { hostRef: "sim", providerId: provider },
            { trigger: "manual" },
          );
          ledger.text(JSON.stringify(r));
        } else {
          const id = batches[Math.floor(random() * batches.length)] as string;
          ledger.text(JSON.stringify(await rollbackBatch(ctx, id)));
        }
      } catch (err) {
        figures.failedOperations += 1;
        // Giving up is fine; giving up without saying why is not.
        if (!isAppError(err) || err.message.length < 10)
          figures.problems.push(`op ${i}: unclear failure: ${String(err)}`);
        ledger.text(String(err));
      }
      // Faults off: finish what was interrupted, as an operator would, then compare.
      w.sim.sim.options.faults = {};
      await settle(ctx);
      const c = await checkConsistency(ctx, w.sim);
      figures.orphans += c.orphans.length + c.phantoms.length;
      figures.lostRecords += c.lostBatches.length;
      figures.unfinished += c.unfinished.length;
      for (const p of [...c.orphans, ...c.phantoms, ...c.lostBatches, ...c.unfinished])
        figures.problems.push(`op ${i}: ${p}`);
      for (const b of batches) {
        const status = (await getBatchRow(ctx, b)).status;
        if (status === "rolled_back") {
          const alive = liveOnHost(w.sim, b);
          const n =
            alive.groups.length +
            alive.accounts.length +
            alive.channels.length +
            alive.plans.length +
            alive.subscriptions.length;
          if (n > 0) {
            figures.aliveAfterRollback += n;
            figures.problems.push(`op ${i}: ${n} resource(s) of rolled-back ${b} alive`);
          }
        }
      }
    }
    const names = w.sim.sim.state.liveAccounts().map((a) => a.name);
    figures.duplicateCreates = names.length - new Set(names).size;
    ledger.fromWorld(w);
    return figures;
  } finally {
    await w.close();
  }
}

/** Recovery and re-run rollbacks until every batch is final (faults are off). */
async function settle(ctx: AppContext) {
  await recoverBatches(ctx);
  const failed = await rows<{ id: string }>(ctx, sql`SELECT id FROM import_batches WHERE status = 'failed'`);
  for (const b of failed) {
    const live = await row<{ n: number }>(
      ctx,
      sql`SELECT count(*) AS n FROM managed_resources WHERE batch_id = ${b.id} AND state IN ('created','create_pending','delete_pending')`,
    );
    if (Number(live?.n) > 0) await rollbackBatch(ctx, b.id).catch(() => undefined);
  }
}

export interface CrashFigures {
  crashPoints: number;
  killed: number;
  orphans: number;
  lostRecords: number;
  unfinished: number;
  problems: string[];
}

/** The CLI killed with SIGKILL at seeded random points of imports and rollbacks, then recovered. */
export async function crashSuite(points: number, seed: number, ledger: SecretLedger): Promise<CrashFigures> {
  const random = mulberry32(seed);
  // Host latency spreads each import over a second or two, so kills land mid-way, not after the end.
  const w = await makeWorld({ faults: { latencyMs: 20 } });
  const figures: CrashFigures = {
    crashPoints: 0,
    killed: 0,
    orphans: 0,
    lostRecords: 0,
    unfinished: 0,
    problems: [],
  };
  try {
    for (let i = 0; i < points; i++) {
      const rollback = random() < 0.35;
      let args: string[];
      if (rollback) {
        const keys = Array.from({ length: 3 }, () => deepseekKey());
        for (const k of keys) ledger.secret(k);
        const file = join(w.t.dir, `pre-${i}.keys`);
        writeFileSync(file, keys.join("\n"));
        const pre = await runRelay(
          [
            "--json",
            "provider",
            "import",
            "deepseek",
            "--host",
            "sim",
            "--keys-file",
            file,
            "--mode",
            "strict",
            "--yes",
          ],
          { env: w.t.env },
        );
        ledger.text(pre.stdout + pre.stderr);
        const id = pre.stdout ? (JSON.parse(pre.stdout) as { batch_id?: string }).batch_id : undefined;
        if (!id || pre.code !== 0) {
          figures.problems.push(`crash ${i}: preparatory import failed: ${pre.stderr}`);
          continue;
        }
        args = ["batch", "rollback", id, "--yes"];
      } else {
        const keys = Array.from({ length: 4 }, () => deepseekKey());
        if (random() < 0.3 && keys[0]) w.sim.sim.upstream.revoke(keys[0]);
        for (const k of keys) ledger.secret(k);
        const file = join(w.t.dir, `crash-${i}.keys`);
        writeFileSync(file, keys.join("\n"));
        args = [
          "provider",
          "import",
          "deepseek",
          "--host",
          "sim",
          "--keys-file",
          file,
          "--mode",
          random() < 0.5 ? "strict" : "partial",
          "--yes",
        ];
        if (random() < 0.4) args.push("--access-mode", "subscription");
      }
      const delay = (rollback ? 150 : 200) + Math.floor(random() * 900);
      const child = spawn(process.execPath, [RELAY_BIN, ...args], {
        env: { ...w.t.env, PATH: process.env.PATH ?? "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      const code = await exited;
      clearTimeout(timer);
      ledger.text(out);
      figures.crashPoints += 1;
      if (code === null) figures.killed += 1;
      const recover = await runRelay(["--json", "batch", "recover"], { env: w.t.env });
      ledger.text(recover.stdout + recover.stderr);
      if (recover.code !== 0)
        figures.problems.push(`crash ${i}: recovery exit ${recover.code}: ${recover.stdout}`);
      const c = await checkConsistency(w.t.ctx, w.sim);
      figures.orphans += c.orphans.length + c.phantoms.length;
      figures.lostRecords += c.lostBatches.length;
      figures.unfinished += c.unfinished.length;
      for (const p of [...c.orphans, ...c.phantoms, ...c.lostBatches, ...c.unfinished])
        figures.problems.push(`crash ${i} (${args[0]} ${args[1]}, ${delay} ms): ${p}`);
    }
    ledger.fromWorld(w);
    return figures;
  } finally {
    await w.close();
  }
}

export interface HostileFigures {
  tried: number;
  refused: number;
  problems: string[];
}

/** Each hostile input must be refused with a clear error and change neither the store nor the host. */
export async function hostileSuite(ledger: SecretLedger): Promise<HostileFigures> {
  const w = await makeWorld();
  const app = createApp(w.t.ctx);
  const figures: HostileFigures = { tried: 0, refused: 0, problems: [] };
  const redirect: Server = createServer((_req, res) => {
    res.writeHead(302, { location: "https://evil.example/steal" });
    res.end();
  });
  await new Promise<void>((r) => redirect.listen(0, "127.0.0.1", () => r()));
  const redirectUrl = `http://127.0.0.1:${(redirect.address() as { port: number }).port}`;
  const snapshot = async () =>
    JSON.stringify({
      db: await Promise.all(
        [
          "hosts",
          "packs",
          "providers",
          "import_batches",
          "managed_resources",
          "provider_installs",
          "host_capability_snapshots",
        ].map(async (t) => await rowCount(w.t.ctx, t)),
      ),
      host: w.sim.sim.state.liveCounts(),
    });
  const http = async (
    name: string,
    method: string,
    path: string,
    body?: string | Uint8Array,
    type?: string,
    expectStatus?: number,
  ) => {
    figures.tried += 1;
    const before = await snapshot();
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...(type ? { "content-type": type } : {}) },
      body: body as RequestInit["body"],
    });
    const text = await res.text();
    ledger.text(text);
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    const ok =
      res.status >= 400 &&
      (res.status < 500 || res.status === 502) &&
      !!code &&
      (expectStatus === undefined || res.status === expectStatus);
    if (!ok) figures.problems.push(`${name}: answered ${res.status} ${text.slice(0, 120)}`);
    else if ((await snapshot()) !== before) figures.problems.push(`${name}: changed the store or the host`);
    else figures.refused += 1;
  };
  const json = "application/json";
  try {
    // Bodies
    await http(
      "oversized JSON body",
      "POST",
      "/api/hosts",
      JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }),
      json,
      400,
    );
    await http(
      "oversized key list",
      "POST",
      "/api/providers/deepseek/import",
      JSON.stringify({ host_id: "sim", keys: ["k".repeat(9 * 1024 * 1024)] }),
      json,
      400,
    );
    await http(
      "oversized archive",
      "POST",
      "/api/packs/install",
      new Uint8Array(17 * 1024 * 1024),
      "application/zip",
      400,
    );
    const posts = [
      "/api/hosts",
      "/api/providers/deepseek/preview-import",
      "/api/providers/deepseek/import",
      "/api/providers/deepseek/access/preview",
      "/api/providers/deepseek/access/assign-subscriptions",
      "/api/providers/deepseek/reconcile",
    ];
    for (const p of posts) {
      for (const t of ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
        await http(`${p} as ${t}`, "POST", p, '{"host_id":"sim"}', t, 400);
      await http(`${p} without content type`, "POST", p, '{"host_id":"sim"}', undefined, 400);
      for (const bad of [
        '{"host_id": ',
        "{'host_id': 'sim'}",
        '{"host_id": "sim",}',
        "NaN",
        "",
        "[]",
        "null",
        '"sim"',
      ]) {
        await http(`${p} invalid JSON ${JSON.stringify(bad)}`, "POST", p, bad, json, 400);
      }
      await http(
        `${p} unknown field`,
        "POST",
        p,
        JSON.stringify({
          host_id: "sim",
          keys: [deepseekKey()],
          name: "h",
          base_url: "https://x",
          auth: { type: "admin_api_key", token: "t" },
          surprise: 1,
        }),
        json,
        400,
      );
      await http(`${p} deep nesting`, "POST", p, `${"[".repeat(20000)}${"]".repeat(20000)}`, json, 400);
    }
    for (const [label, body] of [
      [
        "name as number",
        { name: 5, base_url: "https://x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      ["auth as string", { name: "h", base_url: "https://x.example", auth: "admin-key" }],
      ["wrong auth type", { name: "h", base_url: "https://x.example", auth: { type: "basic", token: "t" } }],
      [
        "RTL override in name",
        { name: "evil\u202Etxt", base_url: "https://x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "zero-width in name",
        { name: "pro\u200Bd", base_url: "https://x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "emoji name",
        { name: "🚀", base_url: "https://x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "NUL in name",
        { name: "a\u0000b", base_url: "https://x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "SQL in name",
        {
          name: "x'; DROP TABLE hosts; --",
          base_url: "https://x.example",
          auth: { type: "admin_api_key", token: "t" },
        },
      ],
      [
        "file: URL",
        { name: "h1", base_url: "file:///etc/passwd", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "javascript: URL",
        { name: "h2", base_url: "javascript:alert(1)", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "data: URL",
        { name: "h3", base_url: "data:text/plain,hi", auth: { type: "admin_api_key", token: "t" } },
      ],
      ["ftp: URL", { name: "h4", base_url: "ftp://x.example", auth: { type: "admin_api_key", token: "t" } }],
      [
        "credentials in URL",
        { name: "h5", base_url: "https://admin:pw@x.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "plain http to a remote host",
        { name: "h6", base_url: "http://sub2api.example.com", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "query in URL",
        { name: "h7", base_url: "https://x.example/?next=evil", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "protocol-relative URL",
        { name: "h8", base_url: "//evil.example", auth: { type: "admin_api_key", token: "t" } },
      ],
      [
        "whitespace token",
        { name: "h9", base_url: w.sim.url, auth: { type: "admin_api_key", token: "admin key with spaces" } },
      ],
    ] as const) {
      await http(`host: ${label}`, "POST", "/api/hosts", JSON.stringify(body), json, 400);
    }
    await http(
      "host: redirect to another host",
      "POST",
      "/api/hosts",
      JSON.stringify({
        name: "redir",
        base_url: redirectUrl,
        auth: { type: "admin_api_key", token: "admin-x" },
      }),
      json,
      502,
    );
    for (const [label, keys] of [
      ["keys as string", "sk-x"],
      ["keys as numbers", [1, 2, 3]],
      ["control characters in a key", ["sk-abc\u0007def"]],
      ["only comments", ["# nothing here", "   "]],
      ["over-long key", [`sk-${"a".repeat(600)}`]],
      ["no valid key in strict mode", ["not-a-key", "also-not"]],
      ["10,001 keys", Array.from({ length: 10_001 }, (_, i) => `sk-${String(i).padStart(32, "0")}`)],
    ] as const) {
      await http(
        `import: ${label}`,
        "POST",
        "/api/providers/deepseek/import",
        JSON.stringify({ host_id: "sim", mode: "strict", keys }),
        json,
      );
    }
    await http(
      "import: unknown mode",
      "POST",
      "/api/providers/deepseek/import",
      JSON.stringify({ host_id: "sim", mode: "yolo", keys: [deepseekKey()] }),
      json,
      400,
    );
    await http(
      "import: user id as object",
      "POST",
      "/api/providers/deepseek/import",
      JSON.stringify({
        host_id: "sim",
        keys: [deepseekKey()],
        subscription_targets: [{ user_id: { $gt: 0 } }],
      }),
      json,
      400,
    );
    await http(
      "access: negative days",
      "POST",
      "/api/providers/deepseek/access/assign-subscriptions",
      JSON.stringify({ host_id: "sim", users: [{ user_id: 1, duration_days: -5 }] }),
      json,
      400,
    );
    await http(
      "reconcile: heal as string",
      "POST",
      "/api/providers/deepseek/reconcile",
      JSON.stringify({ host_id: "sim", heal: "yes" }),
      json,
      400,
    );
    // Path parameters
    for (const p of [
      "/api/hosts/..%2F..%2Fetc%2Fpasswd",
      "/api/hosts/'%20OR%20'1'%3D'1",
      "/api/hosts/%00",
      "/api/packs/..%2F..%2Fpackage.json",
      "/api/packs/x'%3B%20DROP%20TABLE%20packs%3B--",
      "/api/packs/%E2%80%AE",
      "/api/import-batches/1%3BDROP%20TABLE%20hosts",
      "/api/import-batches/..%2F..",
      "/api/providers/..%2F..%2Fetc/status",
      "/api/providers/%27%20UNION%20SELECT%201--/resources",
    ]) {
      await http(`path ${p}`, "GET", p, undefined, undefined, 404);
    }
    await http(
      "probe an unknown host",
      "POST",
      "/api/hosts/'%20OR%201%3D1--/probe",
      undefined,
      undefined,
      404,
    );
    await http(
      "roll back an unknown batch",
      "POST",
      "/api/import-batches/..%2F..%2Fx/rollback",
      undefined,
      undefined,
      404,
    );
    // Pack archives and the bad-pack corpus
    for (const h of hostileArchives())
      await http(`pack: ${h.name}`, "POST", "/api/packs/install", h.zip, "application/zip", 422);
    const corpus = JSON.parse(
      readFileSync(join(projectRoot(), "tests", "fixtures", "packs", "expected.json"), "utf8"),
    ) as Record<string, string>;
    for (const name of Object.keys(corpus)) {
      await http(
        `pack corpus: ${name}`,
        "POST",
        "/api/packs/install",
        JSON.stringify({ path: join(projectRoot(), "tests", "fixtures", "packs", name) }),
        json,
        422,
      );
    }
    // The CLI: secrets on the command line, binary key files
    for (const args of [
      ["host", "add", "--name", "x", "--base-url", "https://x.example", "--admin-key", "admin-cli-secret-1"],
      ["host", "add", "--admin-key=admin-cli-secret-2"],
      ["provider", "import", "deepseek", "--host", "sim", "--keys", "sk-cli-secret-3", "--mode", "strict"],
      ["host", "add", "--name", "x", "--base-url", "https://x.example", "--token", "admin-cli-secret-4"],
    ]) {
      figures.tried += 1;
      const before = await snapshot();
      const r = await runRelay(args, { env: w.t.env });
      ledger.text(r.stdout + r.stderr);
      if (r.code === 0 || /cli-secret/.test(r.stdout + r.stderr))
        figures.problems.push(`cli ${args.join(" ")}: accepted or echoed the secret`);
      else if ((await snapshot()) !== before) figures.problems.push(`cli ${args.join(" ")}: changed state`);
      else figures.refused += 1;
    }
    figures.tried += 1;
    const junk = join(w.t.dir, "junk.keys");
    writeFileSync(junk, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0xff, 0xfe]));
    const before = await snapshot();
    const r = await runRelay(
      ["provider", "import", "deepseek", "--host", "sim", "--keys-file", junk, "--mode", "strict", "--yes"],
      { env: w.t.env },
    );
    if (
      r.code !== 1 ||
      !/not UTF-8 text|NUL bytes|control characters/.test(r.stderr) ||
      (await snapshot()) !== before
    )
      figures.problems.push(`binary key file: ${r.code} ${r.stderr}`);
    else figures.refused += 1;
    ledger.fromWorld(w);
    return figures;
  } finally {
    await new Promise<void>((r) => redirect.close(() => r()));
    await w.close();
  }
}
