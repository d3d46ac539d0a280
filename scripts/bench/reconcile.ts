/**
 * Reconcile benchmark: 50 providers × 40 accounts on a simulated host (own process) answering
 * after 20 ms, reconciled as `relay reconcile run --all` does: one pass over the host. Prints the
 * list calls of the pass (target: at most 2 per resource kind), the host calls per run, and the
 * wall time against its lower bound: the sequential list pages, the probe user's lookup, login
 * and key list, and every re-test and gateway call through the host's concurrency limit.
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
import { reconcileAll } from "../../src/reconcile/runner.js";
import { openDb } from "../../src/store/db.js";
import { mapLimit } from "../../src/util/concurrency.js";
import { createLogger } from "../../src/util/logger.js";
import { writeSignedPack } from "../../tests/fixtures/packs/write.js";
import { countingHostCalls } from "../../tests/helpers/context.js";
import { timeBareTests } from "./import.js";
import type { BenchResult } from "./packs.js";
import { startSimProcess } from "./sim.js";

const PROVIDERS = 50;
const ACCOUNTS = 40;
const LATENCY = 20;
const HOST_CONCURRENCY = 16;
const LIST_KINDS = ["groups.list", "accounts.list", "channels.list", "plans.list", "subscriptions.list"];

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
      RELAY_HOST_CONCURRENCY: String(HOST_CONCURRENCY),
    });
    const ops: string[] = [];
    const base = await createContext({
      db: await openDb(config.dbPath),
      config,
      logger: createLogger("silent"),
    });
    const ctx = countingHostCalls(base, ops);
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

    ops.length = 0;
    const t0 = performance.now();
    const results = await reconcileAll(ctx, { trigger: "cli" });
    const wallMs = performance.now() - t0;
    const bad = results.filter((r) => r.outcome !== "ok");
    if (bad.length > 0)
      throw new Error(`bench reconcile: ${bad.length} provider(s) not ok: ${bad[0]?.reason}`);
    const calls = results.reduce((n, r) => n + r.host_calls, 0);
    const lists = ops.filter((o) => LIST_KINDS.includes(o)).length;
    const pages = Math.max(...LIST_KINDS.map((k) => ops.filter((o) => o === k).length));
    // Lower bound: the longest list (its pages are sequential), the probe user's lookup, login
    // and key list, then every test and gateway call through the host's limit.
    const gated = PROVIDERS * ACCOUNTS + PROVIDERS;
    const boundMs = (pages + 3 + Math.ceil(gated / HOST_CONCURRENCY)) * LATENCY;
    // What the simulated host itself allows for the same tests: a bare client firing them at the
    // same concurrency (no relay), plus the same fixed round trips and the gateway calls.
    const floorMs =
      (await bareTestPass(sim.url, sim.key, ACCOUNTS * PROVIDERS)) +
      (pages + 3 + Math.ceil(PROVIDERS / HOST_CONCURRENCY)) * LATENCY;
    return [
      {
        name: `reconcile ${PROVIDERS}×${ACCOUNTS} @${LATENCY} ms: list calls per host per run`,
        value: lists,
        unit: "",
        target: 2 * LIST_KINDS.length,
        ok: lists <= 2 * LIST_KINDS.length,
      },
      {
        name: `reconcile: host calls per run (tests ${PROVIDERS * ACCOUNTS})`,
        value: calls,
        unit: "",
        target: PROVIDERS * ACCOUNTS + 2 * PROVIDERS + 2 * LIST_KINDS.length + 3,
        ok: calls <= PROVIDERS * ACCOUNTS + 2 * PROVIDERS + 2 * LIST_KINDS.length + 3,
      },
      {
        name: `reconcile: wall / lower bound (${boundMs} ms)`,
        value: wallMs / boundMs,
        unit: "×",
        target: 1.3,
        ok: wallMs / boundMs <= 1.3,
      },
      {
        name: `reconcile: wall / host floor (${floorMs.toFixed(0)} ms)`,
        value: wallMs / floorMs,
        unit: "×",
        target: 1.3,
        ok: wallMs / floorMs <= 1.3,
      },
    ];
  } finally {
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same number of account tests fired by a bare client at the host limit, on the same host. */
async function bareTestPass(url: string, key: string, count: number): Promise<number> {
  const host = new Sub2apiAdapter({ baseUrl: url, adminKey: key });
  const ids = (await host.listAccounts()).map((a) => a.id).slice(0, count);
  return timeBareTests(host, ids, HOST_CONCURRENCY, "m1");
}
