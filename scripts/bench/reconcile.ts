/**
 * Reconcile benchmark: 50 providers × 40 accounts on a simulated host (own process) answering
 * after 20 ms. Prints host calls per run (list calls plus tests, not one GET per resource) and
 * wall time against the lower bound of the concurrency used.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { reconcileAll } from "../../src/reconcile/runner.js";
import { openDb } from "../../src/store/db.js";
import { mapLimit } from "../../src/util/concurrency.js";
import { createLogger } from "../../src/util/logger.js";
import { writeSignedPack } from "../../tests/fixtures/packs/write.js";
import type { BenchResult } from "./packs.js";
import { startSimProcess } from "./sim.js";

const PROVIDERS = 50;
const ACCOUNTS = 40;
const LATENCY = 20;
const PROVIDER_CONCURRENCY = 4;
const TEST_CONCURRENCY = 4;

function writePack(dir: string) {
  const files = new Map<string, Buffer>();
  files.set(
    "pack.json",
    Buffer.from(
      JSON.stringify({
        schema_version: 1,
        pack_id: "bench-many",
        name: "bench",
        version: "1.0.0",
        description: "",
        host: { app: "sub2api", version_range: ">=0.1.0" },
      }),
    ),
  );
  for (let i = 0; i < PROVIDERS; i++) {
    const id = `bp${String(i).padStart(2, "0")}`;
    files.set(
      `providers/${id}.json`,
      Buffer.from(
        JSON.stringify({
          provider_id: id,
          display_name: id,
          base_url: `https://api.${id}.bench.example/v1`,
          platforms: { preferred: "openai", fallback: "openai" },
          api_protocol: "chat_completions",
          default_models: ["m1"],
          smoke_test_model: "m1",
          account_defaults: { concurrency: 5, priority: 50 },
          group_defaults: { subscription_type: "subscription", rate_multiplier: 1, is_exclusive: false },
        }),
      ),
    );
  }
  writeSignedPack(dir, files);
}

export async function benchReconcile(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-reconcile-"));
  const sim = await startSimProcess();
  try {
    writePack(join(dir, "pack"));
    const config = loadConfig({
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    const ctx = createContext({ db: openDb(config.dbPath), config, logger: createLogger("silent") });
    await installPack(ctx, { kind: "path", path: join(dir, "pack") });
    await addHost(ctx, { name: "bench", baseUrl: sim.url, adminKey: sim.key });
    await mapLimit(
      Array.from({ length: PROVIDERS }, (_, i) => `bp${String(i).padStart(2, "0")}`),
      4,
      async (id) => {
        const keys = Array.from({ length: ACCOUNTS }, () => `sk-${randomBytes(16).toString("hex")}`);
        const r = await importKeys(ctx, {
          hostRef: "bench",
          providerId: id,
          keys,
          mode: "strict",
          accessMode: "subscription",
        });
        if (r.status !== "succeeded") throw new Error(`bench import of ${id}: ${r.status_reason}`);
      },
    );
    await fetch(`${sim.url}/__sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latencyMs: LATENCY }),
    });

    const t0 = performance.now();
    const results = await reconcileAll(ctx, {
      trigger: "cli",
      concurrency: PROVIDER_CONCURRENCY,
      testConcurrency: TEST_CONCURRENCY,
    });
    const wallMs = performance.now() - t0;
    const bad = results.filter((r) => r.outcome !== "ok");
    if (bad.length > 0)
      throw new Error(`bench reconcile: ${bad.length} provider(s) not ok: ${bad[0]?.reason}`);
    const calls = results.reduce((n, r) => n + r.host_calls, 0);
    // Per provider, sequential round trips: the parallel list calls (1) + subscriptions (1), account
    // tests over the test workers, then the access probe (user lookup, login, keys, chat: 4).
    const perProvider = 2 + Math.ceil(ACCOUNTS / TEST_CONCURRENCY) + 4;
    const boundMs = Math.ceil(PROVIDERS / PROVIDER_CONCURRENCY) * perProvider * LATENCY;
    const resources = PROVIDERS * (ACCOUNTS + 3);
    return [
      {
        name: `reconcile ${PROVIDERS}×${ACCOUNTS} @${LATENCY} ms: host calls per run`,
        value: calls,
        unit: "",
        target: resources + PROVIDERS * ACCOUNTS,
        ok: calls < resources + PROVIDERS * ACCOUNTS,
      },
      {
        name: `reconcile: non-test calls per provider (lists + probe)`,
        value: (calls - PROVIDERS * ACCOUNTS) / PROVIDERS,
        unit: "",
        target: 12,
        ok: (calls - PROVIDERS * ACCOUNTS) / PROVIDERS < 12,
      },
      {
        name: `reconcile: wall time`,
        value: wallMs,
        unit: "ms",
        target: 1.5 * boundMs,
        ok: wallMs <= 1.5 * boundMs,
      },
      {
        name: `reconcile: wall / lower bound (${boundMs} ms)`,
        value: wallMs / boundMs,
        unit: "×",
        target: 1.5,
        ok: wallMs / boundMs <= 1.5,
      },
    ];
  } finally {
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
