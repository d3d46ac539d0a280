/**
 * Import and reconcile against a REAL sub2api (RELAY_BENCH_LIVE_URL, admin key in
 * RELAY_BENCH_LIVE_ADMIN_KEY or the file RELAY_BENCH_LIVE_ADMIN_KEY_FILE), with the live suite's
 * loopback fake upstreams behind it. Each figure is relay's wall time ÷ the real host's own floor,
 * measured in the same run: the same account creates and tests fired by a bare client (relay's
 * adapter without its saga, records or pools) at the same concurrency. Skipped, with a line
 * saying so, when no host is given. Everything made on the host is removed again.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { FakeUpstreams, fakeProvidersFromPack } from "../../tests/live/fake-upstream.js";
import { SHIPPED_PACK, writeLivePack } from "../../tests/live/live-pack.js";
import { benchContext, timeBareTests } from "./import.js";
import type { BenchResult } from "./packs.js";

const KEYS = Number(process.env.RELAY_BENCH_LIVE_KEYS ?? 200);
const CONCURRENCY = 16;
const CHUNK = 50;
/** relay against the host's own floor: what relay may add on top of the calls it must make. */
const TARGET = 1.5;

export async function benchLive(): Promise<BenchResult[]> {
  const baseUrl = process.env.RELAY_BENCH_LIVE_URL?.replace(/\/+$/, "");
  if (!baseUrl) {
    console.log("live bench: skipped (set RELAY_BENCH_LIVE_URL and RELAY_BENCH_LIVE_ADMIN_KEY[_FILE])");
    return [];
  }
  const file = process.env.RELAY_BENCH_LIVE_ADMIN_KEY_FILE;
  const adminKey = (
    file ? readFileSync(file, "utf8") : (process.env.RELAY_BENCH_LIVE_ADMIN_KEY ?? "")
  ).trim();
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-live-"));
  const ups = await FakeUpstreams.start(fakeProvidersFromPack(SHIPPED_PACK));
  try {
    const env = {
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
      RELAY_ALLOW_LOOPBACK_UPSTREAMS: "1",
    };
    const ctx = await benchContext(env);
    await installPack(ctx, { kind: "path", path: writeLivePack(join(dir, "pack"), ups) });
    await addHost(ctx, { name: "live-bench", baseUrl, adminKey });
    const keys = Array.from({ length: KEYS }, () => `sk-${randomBytes(16).toString("hex")}`);

    const t0 = performance.now();
    const result = await importKeys(
      ctx,
      { hostRef: "live-bench", providerId: "deepseek", keys, mode: "partial", precheck: false },
      { testConcurrency: CONCURRENCY, chunkSize: CHUNK },
    );
    const importMs = performance.now() - t0;
    if (result.summary.working !== KEYS)
      throw new Error(`live bench: ${result.summary.working}/${KEYS} working (${result.status_reason})`);

    const r0 = performance.now();
    await reconcileProvider(
      ctx,
      { hostRef: "live-bench", providerId: "deepseek" },
      { trigger: "manual", retest: { kind: "all" }, testConcurrency: CONCURRENCY },
    );
    const reconcileMs = performance.now() - r0;

    const floor = await bareFloor(baseUrl, adminKey, ups.baseUrl("deepseek"), KEYS);
    await rollbackBatch(ctx, result.batch_id);
    const line = (name: string, value: number): BenchResult => ({
      name,
      value,
      unit: "×",
      target: TARGET,
      ok: value <= TARGET,
    });
    console.log(
      `live bench (${baseUrl}): import ${KEYS} keys ${importMs.toFixed(0)} ms, reconcile ${reconcileMs.toFixed(0)} ms; ` +
        `host floor: creates ${floor.createMs.toFixed(0)} ms + tests ${floor.testMs.toFixed(0)} ms`,
    );
    return [
      line(
        `live import ${KEYS} keys ÷ real host floor (creates + tests)`,
        importMs / (floor.createMs + floor.testMs),
      ),
      line(`live reconcile ${KEYS} accounts ÷ real host floor (tests)`, reconcileMs / floor.testMs),
    ];
  } finally {
    await ups.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same creates (in batches of CHUNK) and tests (CONCURRENCY at a time) from a bare client. */
async function bareFloor(baseUrl: string, adminKey: string, upstream: string, count: number) {
  const host = new Sub2apiAdapter({ baseUrl, adminKey });
  const ids: number[] = [];
  const c0 = performance.now();
  for (let c = 0; c < count; c += CHUNK) {
    const inputs = Array.from({ length: Math.min(CHUNK, count - c) }, (_, i) => ({
      name: `bench-floor-${Date.now().toString(36)}-${c + i}`,
      notes: "",
      platform: "deepseek",
      apiKey: `sk-${randomBytes(16).toString("hex")}`,
      baseUrl: upstream,
      modelMapping: { "deepseek-v4-flash": "deepseek-v4-flash" },
      concurrency: 2,
      priority: 50,
      groupIds: [],
    }));
    const r = await host.createAccountsBatch(inputs, `bench-floor-${randomBytes(6).toString("hex")}`);
    for (const x of r.results) if (x.id !== undefined) ids.push(x.id);
  }
  const createMs = performance.now() - c0;
  const testMs = await timeBareTests(host, ids, CONCURRENCY, "deepseek-v4-flash");
  for (const id of ids) await host.deleteAccount(id);
  return { createMs, testMs };
}
