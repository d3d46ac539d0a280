/**
 * Import benchmark: 1,000 keys into a simulated host running in its own process.
 * - at 20 ms latency per host call: host calls per key (target ≤ 1.1), wall time against the lower
 *   bound the concurrency settings imply (target ≤ 1.5× the bound), and the naive loop an operator
 *   would script (create, then test, one key after another) against relay (target ≥ 10×);
 * - at 0 ms latency: control-plane CPU per key (target ≤ 1 ms); the simulator's CPU is not counted.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { openDb } from "../../src/store/db.js";
import { createLogger } from "../../src/util/logger.js";
import { projectRoot } from "../../src/util/paths.js";
import type { BenchResult } from "./packs.js";
import { startSimProcess } from "./sim.js";

const KEYS = 1000;
/** relay's default (RELAY_HOST_CONCURRENCY): tests in flight to one host. */
const TEST_CONCURRENCY = 16;
const CHUNK = 50;

async function run(latencyMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-import-"));
  const sim = await startSimProcess(["--latency", String(latencyMs)]);
  let calls = 0;
  try {
    const config = loadConfig({
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    const ctx = createContext({
      db: openDb(config.dbPath),
      config,
      logger: createLogger("silent"),
      hostAdapter: (o) => new Sub2apiAdapter({ ...o, onCall: () => (calls += 1) }),
    });
    await installPack(ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    await addHost(ctx, { name: "bench", baseUrl: sim.url, adminKey: sim.key });
    const keys = Array.from({ length: KEYS }, () => `sk-${randomBytes(16).toString("hex")}`);
    calls = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await importKeys(
      ctx,
      { hostRef: "bench", providerId: "deepseek", keys, mode: "partial" },
      { testConcurrency: TEST_CONCURRENCY, chunkSize: CHUNK },
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (result.summary.working !== KEYS)
      throw new Error(`bench import: ${result.summary.working}/${KEYS} working (${result.status_reason})`);
    ctx.db.$client.close();
    return { wallMs, calls, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The naive baseline an operator would script: a group, then per key create the account and test
 * it, one key after another, against the same simulated host at the same latency.
 */
async function naiveLoop(latencyMs: number, keys: number): Promise<number> {
  const sim = await startSimProcess(["--latency", String(latencyMs)]);
  try {
    const host = new Sub2apiAdapter({ baseUrl: sim.url, adminKey: sim.key });
    const group = await host.createGroup({
      name: `naive-${randomBytes(4).toString("hex")}`,
      description: "",
      platform: "deepseek",
      subscriptionType: "subscription",
      rateMultiplier: 1,
      isExclusive: false,
    });
    const t0 = performance.now();
    for (let i = 0; i < keys; i++) {
      const account = await host.createAccount(
        {
          name: `naive-${i}`,
          notes: "",
          platform: "deepseek",
          apiKey: `sk-${randomBytes(16).toString("hex")}`,
          baseUrl: "https://api.deepseek.com",
          apiProtocol: "chat_completions",
          accountMode: "payg",
          modelMapping: { "deepseek-chat": "deepseek-chat" },
          concurrency: 2,
          priority: 50,
          groupIds: [group.id],
        },
        `naive-${i}`,
      );
      const test = await host.testAccount(account.id, "deepseek-chat");
      if (!test.success) throw new Error(`naive loop: test of key ${i} failed: ${test.error}`);
    }
    return performance.now() - t0;
  } finally {
    sim.child.kill();
  }
}

export async function benchImportCpuOnly() {
  return run(0);
}

export async function benchImport(): Promise<BenchResult[]> {
  const latency = 20;
  const slow = await run(latency);
  // Sequential host round trips the design cannot avoid: the preview reads (in parallel: one round
  // trip), group and channel creates, one batch create per chunk, one test per account spread
  // over the test workers, and one model read for the whole batch.
  const sequential = 1 + 2 + Math.ceil(KEYS / CHUNK) + Math.ceil(KEYS / TEST_CONCURRENCY) + 1;
  const boundMs = sequential * latency;
  const fast = await run(0);
  const naiveMs = await naiveLoop(latency, KEYS);
  return [
    {
      name: `import ${KEYS} keys @${latency} ms: naive loop (${(naiveMs / 1000).toFixed(1)} s) / relay`,
      value: naiveMs / slow.wallMs,
      unit: "×",
      target: 10,
      atLeast: true,
      ok: naiveMs / slow.wallMs >= 10,
    },
    {
      name: `import ${KEYS} keys @${latency} ms: host calls per key`,
      value: slow.calls / KEYS,
      unit: "",
      target: 1.1,
      ok: slow.calls / KEYS <= 1.1,
    },
    {
      name: `import ${KEYS} keys @${latency} ms: wall time`,
      value: slow.wallMs,
      unit: "ms",
      target: 1.5 * boundMs,
      ok: slow.wallMs <= 1.5 * boundMs,
    },
    {
      name: `import ${KEYS} keys @${latency} ms: wall / lower bound (${boundMs} ms)`,
      value: slow.wallMs / boundMs,
      unit: "×",
      target: 1.3,
      ok: slow.wallMs / boundMs <= 1.3,
    },
    {
      name: `import ${KEYS} keys @0 ms: control-plane CPU per key`,
      value: fast.cpuMs / KEYS,
      unit: "ms",
      target: 1,
      ok: fast.cpuMs / KEYS <= 1,
    },
  ];
}
