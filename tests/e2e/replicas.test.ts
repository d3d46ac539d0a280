import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { RELAY_BIN } from "../helpers/cli.js";
import { makeTestEnv, row, TEST_API_TOKEN, type TestEnv } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";
import { TEST_STORE } from "../helpers/postgres.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

/**
 * Several `relay serve` processes on one database (one machine, one SQLite file): the scheduled
 * reconcile ticks once per period in total, one replica leads, and leadership moves when the
 * leader is killed.
 */
let t: TestEnv | undefined;
let w: World | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children) c.kill("SIGKILL");
  children.length = 0;
  await t?.cleanup();
  t = undefined;
  await w?.close();
  w = undefined;
});

interface Replica {
  child: ChildProcess;
  base: string;
}

async function startReplica(env: Record<string, string> = t?.env ?? {}): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [RELAY_BIN, "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      ...env,
      RELAY_LISTEN: `127.0.0.1:${port}`,
      RELAY_RECONCILE_CRON: "* * * * * *", // every second
      RELAY_RECONCILE_JITTER_MS: "0",
      ...(process.env.REPLICA_LOG ? { RELAY_LOG_LEVEL: "info" } : {}),
    },
    stdio: ["ignore", process.env.REPLICA_LOG ? "inherit" : "ignore", "inherit"],
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { child, base };
    } catch {}
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("a replica did not become ready");
}

const ready = async (r: Replica) =>
  (await (await fetch(`${r.base}/readyz`)).json()) as { scheduler_leader: boolean; store: string };
async function ticks(r: Replica): Promise<number> {
  const text = await (
    await fetch(`${r.base}/metrics`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } })
  ).text();
  return Number(/^relay_scheduler_ticks_total (\d+)/m.exec(text)?.[1] ?? "0");
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("replicas on one database", () => {
  it("a fast schedule ticks once per period in total, not once per replica; leadership moves when the leader dies", async () => {
    t = await makeTestEnv();
    const t0 = Date.now(); // every tick counted below happened after this
    const replicas = [await startReplica(), await startReplica(), await startReplica()];
    const leaders = async () => (await Promise.all(replicas.map(ready))).map((s) => s.scheduler_leader);
    expect((await leaders()).filter(Boolean)).toHaveLength(1);

    // Ticks are claimed by their planned time: however busy the machine, the replicas together
    // never tick more often than the schedule has periods (three independent schedulers would
    // tick ~3× this). A loaded machine may miss periods, so the lower bound is progress only.
    const started = Date.now();
    let counts = await Promise.all(replicas.map(ticks));
    while (counts.reduce((a, b) => a + b, 0) < 3) {
      if (Date.now() - started > 90_000) throw new Error(`the leader ticked ${counts} times in 90 s`);
      await sleep(200);
      counts = await Promise.all(replicas.map(ticks));
    }
    const seconds = (Date.now() - t0) / 1000;
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(counts.filter((n) => n > 0)).toHaveLength(1);

    // SIGKILL the leader: another replica takes the lease at its next heartbeat and goes on ticking.
    const leaderIndex = (await leaders()).indexOf(true);
    const leader = replicas[leaderIndex] as Replica;
    leader.child.kill("SIGKILL");
    await new Promise((r) => leader.child.once("exit", r));
    const rest = replicas.filter((_, i) => i !== leaderIndex);
    let next: boolean[] = [];
    for (let i = 0; i < 900 && !next.includes(true); i++) {
      await sleep(100);
      next = (await Promise.all(rest.map(ready))).map((s) => s.scheduler_leader);
    }
    // Each replica names the store they share (the PostgreSQL pass of the suite runs them on one database).
    for (const s of await Promise.all(rest.map(ready))) expect(s.store).toBe(TEST_STORE);
    expect(next.filter(Boolean)).toHaveLength(1);
    const sum = async () => (await Promise.all(rest.map(ticks))).reduce((a, b) => a + b, 0);
    const before = await sum();
    const since = Date.now();
    let after = before;
    while (after - before < 1) {
      if (Date.now() - since > 90_000) throw new Error("no replica ticked within 90 s of the leader's death");
      await sleep(200);
      after = await sum();
    }
    expect(after - before).toBeLessThanOrEqual(Math.ceil((Date.now() - since) / 1000) + 2);
  }, 300_000);

  it("a process killed mid-import: the leading replica finishes its batch (strict: rolled back) and the host is clean", async () => {
    w = await makeWorld({ faults: { latencyMs: 40 } });
    const world = w;
    await startReplica(world.t.env);
    const keys = join(world.t.dir, "keys.txt");
    writeFileSync(keys, `${Array.from({ length: 40 }, deepseekKey).join("\n")}\n`);
    const importer = spawn(
      process.execPath,
      [
        RELAY_BIN,
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keys,
        "--mode",
        "strict",
        "--no-precheck",
        "--yes",
      ],
      { env: { PATH: process.env.PATH ?? "", ...world.t.env }, stdio: "ignore" },
    );
    children.push(importer);
    for (let i = 0; i < 200 && liveOnHost(world.sim).accounts.length === 0; i++) await sleep(25);
    expect(liveOnHost(world.sim).accounts.length).toBeGreaterThan(0);
    importer.kill("SIGKILL");
    await new Promise((r) => importer.once("exit", r));
    // Judged from the host: the replica's recovery removes everything the dead import made; the
    // batch reads rolled_back once the last delete is recorded.
    const status = async () =>
      (await row<{ status: string }>(world.t.ctx, sql`SELECT status FROM import_batches`))?.status;
    const liveCount = () => {
      const live = liveOnHost(world.sim);
      return live.groups.length + live.accounts.length + live.channels.length;
    };
    for (let i = 0; i < 200 && (liveCount() > 0 || (await status()) !== "rolled_back"); i++) await sleep(100);
    expect(liveCount()).toBe(0);
    expect(await status()).toBe("rolled_back");
  }, 40_000);

  it("imports through different replicas at once: two providers both run, the same provider twice gets one 409", async () => {
    w = await makeWorld({ faults: { latencyMs: 30 } });
    const world = w;
    const [a, b] = [await startReplica(world.t.env), await startReplica(world.t.env)];
    const post = (r: Replica, provider: string) =>
      fetch(`${r.base}/api/providers/${provider}/import?wait=true`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          host_id: "sim",
          mode: "strict",
          keys: Array.from({ length: 24 }, deepseekKey),
        }),
      });
    const [deepseek, kimi] = await Promise.all([post(a, "deepseek"), post(b, "kimi")]);
    expect([deepseek.status, kimi.status]).toEqual([200, 200]);
    const statusOf = async (r: Response) => ((await r.json()) as { status: string }).status;
    expect([await statusOf(deepseek), await statusOf(kimi)]).toEqual(["succeeded", "succeeded"]);

    const [first, second] = await Promise.all([post(a, "deepseek"), post(b, "deepseek")]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    const refused = (first.status === 409 ? first : second).clone();
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("PROVIDER_BUSY");
    // Judged from the host: one deepseek group (the busy one made nothing), one kimi group.
    const groups = liveOnHost(world.sim).groups.map((g) => g.name.replace(/-[0-9a-f]{8}-g\d+$/, ""));
    expect(groups.sort()).toEqual(["relay-deepseek", "relay-kimi"]);
  }, 40_000);
});
