/**
 * The real fault model: the host acts and the answer is lost, answered 503, held past the client's
 * timeout, or the request lands late. Every scenario is judged from the simulator's state alone:
 * nothing relay made is live once its batches are rolled back, nothing relay did not make was
 * touched, and while a batch is live everything relay made on the host is recorded.
 */
import { join } from "node:path";
import { Writable } from "node:stream";
import { type AppContext, createContext } from "../../src/app/context.js";
import { isAppError } from "../../src/domain/errors.js";
import { Sub2apiAdapter } from "../../src/host/sub2api/index.js";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileAll, reconcileProvider } from "../../src/reconcile/runner.js";
import { listBatches } from "../../src/store/batches.js";
import { createLogger } from "../../src/util/logger.js";
import { projectRoot } from "../../src/util/paths.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";
import { FaultProxy, type ProxyMode } from "../helpers/fault-proxy.js";
import { checkConsistency } from "../helpers/invariants.js";
import { deepseekKey, liveOnHost } from "../helpers/world.js";
import type { ProfileName } from "../sim/sub2api/profiles.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";
import type { SecretLedger } from "./suite.js";

/** A simulated host behind a fault proxy, and a relay installation that reaches it only through the proxy. */
export interface ProxiedWorld {
  profile: ProfileName;
  sim: RunningSim;
  proxy: FaultProxy;
  t: TestEnv;
  ctx: AppContext;
  /** A user of the host's own, subscribed by relay's imports: relay must never delete her. */
  alice: number;
  foreign: () => string;
  close(): Promise<void>;
}

/** A context whose host client gives up after 300 ms (the proxy holds for 700) and whose logs are kept. */
export async function proxiedContext(t: TestEnv, ledger: SecretLedger): Promise<AppContext> {
  const sink = new Writable({
    write(chunk, _e, done) {
      ledger.text(String(chunk));
      done();
    },
  });
  return await createContext({
    db: t.ctx.db,
    config: t.ctx.config,
    logger: createLogger("info", sink),
    hostAdapter: (o) =>
      new Sub2apiAdapter({ ...o, timeoutMs: 300, baseBackoffMs: 5, maxRetries: 2, maxRetryAfterMs: 500 }),
  });
}

export async function makeProxiedWorld(profile: ProfileName, ledger: SecretLedger): Promise<ProxiedWorld> {
  const sim = await startSimulator({ profile });
  const proxy = await FaultProxy.start(sim.url);
  const t = await makeTestEnv({ RELAY_HOST_TIMEOUT_MS: "300" });
  const ctx = await proxiedContext(t, ledger);
  await installPack(ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
  await addHost(ctx, { name: "sim", baseUrl: proxy.url, adminKey: sim.sim.state.adminApiKey });
  const foreign = await makeForeign(sim);
  return {
    profile,
    sim,
    proxy,
    t,
    ctx,
    alice: foreign.alice,
    foreign: foreign.snapshot,
    async close() {
      await proxy.close();
      await sim.close();
      await t.cleanup();
    },
  };
}

/**
 * What the host had before relay came: a team group with its own account, a user with a
 * subscription and a key to it. Returns a snapshot function: any change to these is a finding.
 */
async function makeForeign(sim: RunningSim) {
  const s = sim.sim.state;
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: { "x-api-key": s.adminApiKey, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { data?: { id?: number } };
    if (!res.ok || json.data?.id === undefined) throw new Error(`foreign ${path}: ${res.status}`);
    return json.data.id;
  };
  const group = await admin("POST", "/api/v1/admin/groups", {
    name: "team-a",
    description: "made by the operator",
    platform: "openai",
    subscription_type: "subscription",
    rate_multiplier: 1,
  });
  const account = await admin("POST", "/api/v1/admin/accounts", {
    name: "team-a-key-1",
    notes: "made by the operator",
    platform: "openai",
    type: "apikey",
    credentials: { api_key: "sk-operator-owned-0123456789abcdef", base_url: "https://api.openai.com" },
    concurrency: 3,
    priority: 50,
    group_ids: [group],
  });
  const alice = s.addUser({ email: "alice@example.com", password: "alice-password" });
  await admin("POST", "/api/v1/admin/subscriptions/assign", {
    user_id: alice.id,
    group_id: group,
    validity_days: 30,
    notes: "bought by alice",
  });
  const snapshot = () =>
    JSON.stringify({
      group: [...s.groups.values()]
        .filter((g) => g.id === group)
        .map((g) => [g.name, g.status, g.deletedAt ?? null]),
      account: [...s.accounts.values()]
        .filter((a) => a.id === account)
        .map((a) => [a.name, a.status, a.groupIds, a.deletedAt ?? null]),
      alice: [...s.users.values()]
        .filter((u) => u.id === alice.id)
        .map((u) => [u.status, u.deletedAt ?? null]),
      subscriptions: [...s.subscriptions.values()]
        .filter((x) => x.userId === alice.id && x.groupId === group)
        .map((x) => [x.id, x.status]),
    });
  return { alice: alice.id, snapshot };
}

/** Every write relay makes, by phase: where the host acts and an answer can be lost. */
export interface WriteRoute {
  name: string;
  match: RegExp;
  phase: "import" | "rollback" | "heal";
}

export const WRITE_ROUTES: WriteRoute[] = [
  { name: "group create", match: /^POST \/api\/v1\/admin\/groups$/, phase: "import" },
  { name: "channel create", match: /^POST \/api\/v1\/admin\/channels$/, phase: "import" },
  { name: "plan create", match: /^POST \/api\/v1\/admin\/payment\/plans$/, phase: "import" },
  { name: "account batch create", match: /^POST \/api\/v1\/admin\/accounts\/batch$/, phase: "import" },
  { name: "account create", match: /^POST \/api\/v1\/admin\/accounts$/, phase: "import" },
  { name: "account test", match: /^POST \/api\/v1\/admin\/accounts\/\d+\/test$/, phase: "import" },
  {
    name: "models sync",
    match: /^POST \/api\/v1\/admin\/accounts\/\d+\/models\/sync-upstream$/,
    phase: "import",
  },
  { name: "subscription assign", match: /^POST \/api\/v1\/admin\/subscriptions\/assign$/, phase: "import" },
  { name: "probe user create", match: /^POST \/api\/v1\/admin\/users$/, phase: "import" },
  { name: "probe login", match: /^POST \/api\/v1\/auth\/login$/, phase: "import" },
  { name: "probe key create", match: /^POST \/api\/v1\/keys$/, phase: "import" },
  { name: "gateway call", match: /^POST \/v1\/chat\/completions$/, phase: "import" },
  { name: "account delete", match: /^DELETE \/api\/v1\/admin\/accounts\/\d+$/, phase: "rollback" },
  {
    name: "account batch delete",
    match: /^POST \/api\/v1\/admin\/accounts\/batch-delete$/,
    phase: "rollback",
  },
  { name: "subscription revoke", match: /^DELETE \/api\/v1\/admin\/subscriptions\/\d+$/, phase: "rollback" },
  { name: "probe key delete", match: /^DELETE \/api\/v1\/keys\/\d+$/, phase: "rollback" },
  { name: "plan delete", match: /^DELETE \/api\/v1\/admin\/payment\/plans\/\d+$/, phase: "rollback" },
  { name: "channel delete", match: /^DELETE \/api\/v1\/admin\/channels\/\d+$/, phase: "rollback" },
  { name: "group delete", match: /^DELETE \/api\/v1\/admin\/groups\/\d+$/, phase: "rollback" },
  { name: "account rebind (heal)", match: /^PUT \/api\/v1\/admin\/accounts\/\d+$/, phase: "heal" },
];

export interface ProfileFigures {
  profile: ProfileName;
  lostAnswerScenarios: number;
  killPoints: number;
  concurrentRounds: number;
  randomSequences: number;
  orphans: number;
  foreignTouched: number;
  recordsLost: number;
  problems: string[];
}

export function emptyFigures(profile: ProfileName): ProfileFigures {
  return {
    profile,
    lostAnswerScenarios: 0,
    killPoints: 0,
    concurrentRounds: 0,
    randomSequences: 0,
    orphans: 0,
    foreignTouched: 0,
    recordsLost: 0,
    problems: [],
  };
}

/** The import every scenario runs: two keys, subscribing alice, proving access, with a plan where the host sells them. */
export function runImport(w: ProxiedWorld, mode: "strict" | "partial", ledger: SecretLedger) {
  const keys = [deepseekKey(), deepseekKey()];
  for (const k of keys) ledger.secret(k);
  const caps = w.sim.sim.profile;
  return importKeys(w.ctx, {
    hostRef: "sim",
    providerId: "deepseek",
    keys,
    mode,
    subscribe: [{ userId: w.alice }],
    ...(caps.chatCompletions ? { accessMode: "subscription" as const } : {}),
    ...(caps.paymentPlans ? { withPlan: true } : {}),
  });
}

/** Counts what is wrong on the host right now while batches may be live: relay-made resources it has no record of. */
export async function recordsLost(w: ProxiedWorld, f: ProfileFigures, label: string): Promise<void> {
  const c = await checkConsistency(w.ctx, w.sim);
  const lost = [...c.orphans, ...c.lostBatches];
  f.recordsLost += lost.length;
  for (const p of lost) f.problems.push(`${w.profile} ${label}: not recorded while its batch is live: ${p}`);
}

/**
 * Finishes everything as an operator would once the network is healthy: recover, reconcile (which
 * settles lost creates), roll every batch back, reconcile again for creates that landed late.
 */
export async function settleAndRollBackAll(w: ProxiedWorld): Promise<string[]> {
  const notes: string[] = [];
  await w.proxy.settle();
  await recoverBatches(w.ctx);
  for (let round = 0; round < 3; round++) {
    for (const b of await listBatches(w.ctx, {})) {
      if (b.status === "rolled_back") continue;
      try {
        await rollbackBatch(w.ctx, b.batch_id);
      } catch (err) {
        if (round === 2) notes.push(`rollback ${b.batch_id}: ${(err as Error).message}`);
      }
    }
    await w.proxy.settle();
    for (const r of await reconcileAll(w.ctx, { trigger: "cli" }))
      if (r.outcome === "error") notes.push(`reconcile ${r.provider_id}: ${r.reason}`);
  }
  return notes;
}

/** The host-side invariants once every batch is rolled back. */
export function judgeHost(w: ProxiedWorld, f: ProfileFigures, label: string, foreignBefore: string): void {
  const live = liveOnHost(w.sim);
  const s = w.sim.sim.state;
  const probe = [...s.users.values()].find((u) => u.email.startsWith("relay-probe-"));
  const probeKeys = s.liveKeys().filter((k) => k.userId === probe?.id);
  const left = [
    ...live.groups.map((g) => `group ${g.name}`),
    ...live.accounts.map((a) => `account ${a.name}`),
    ...live.channels.map((c) => `channel ${c.name}`),
    ...live.plans.map((p) => `plan ${p.name}`),
    ...live.subscriptions.map((x) => `subscription #${x.id} of user ${x.userId}`),
    ...probeKeys.map((k) => `probe key ${k.name}`),
  ];
  f.orphans += left.length;
  for (const l of left) f.problems.push(`${w.profile} ${label}: still live after rollback: ${l}`);
  if (w.foreign() !== foreignBefore) {
    f.foreignTouched += 1;
    f.problems.push(
      `${w.profile} ${label}: the operator's own resources changed: ${foreignBefore} → ${w.foreign()}`,
    );
  }
}

/** An error an operator can act on, or a bug. */
export function unclear(err: unknown): boolean {
  return !isAppError(err) || err.message.length < 10;
}

/**
 * One scenario per (route, fault mode, import mode): arm the fault on the route, run the phase,
 * settle, judge. A route the phase never calls on this profile is not counted.
 */
export async function lostAnswerScenarios(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  options: { routes: WriteRoute[]; modes: ProxyMode[]; importModes: ("strict" | "partial")[] },
): Promise<void> {
  for (const route of options.routes)
    for (const mode of options.modes)
      for (const importMode of options.importModes) {
        const label = `${route.name} / ${mode} / ${importMode}`;
        const foreignBefore = w.foreign();
        if (route.name === "probe user create") {
          // Relay's probe user deleted by hand: the next access proof creates it again.
          for (const u of w.sim.sim.state.users.values())
            if (u.email.startsWith("relay-probe-")) u.deletedAt = Date.now();
        }
        let batchId: string | undefined;
        if (route.phase !== "import") batchId = (await runImport(w, importMode, ledger)).batch_id;
        if (route.phase === "heal" && batchId) {
          const acct = liveOnHost(w.sim, batchId).accounts[0];
          if (acct) acct.groupIds = [];
        }
        const hitsBefore = w.proxy.hits.length;
        w.proxy.arm({ match: route.match, mode });
        try {
          if (route.phase === "import") {
            const r = await runImport(w, importMode, ledger);
            ledger.text(JSON.stringify(r));
            batchId = r.batch_id;
          } else if (route.phase === "rollback" && batchId) {
            ledger.text(JSON.stringify(await rollbackBatch(w.ctx, batchId)));
          } else {
            const r = await reconcileProvider(
              w.ctx,
              { hostRef: "sim", providerId: "deepseek" },
              { trigger: "cli", heal: true },
            );
            ledger.text(JSON.stringify(r));
          }
        } catch (err) {
          ledger.text(String(err));
          if (unclear(err)) f.problems.push(`${w.profile} ${label}: unclear failure: ${String(err)}`);
        }
        w.proxy.disarm();
        const hit = w.proxy.hits.length > hitsBefore;
        await w.proxy.settle();
        await recoverBatches(w.ctx);
        await reconcileProvider(w.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli" }).catch(
          () => undefined,
        );
        await recordsLost(w, f, label);
        for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} ${label}: ${n}`);
        judgeHost(w, f, label, foreignBefore);
        if (hit) f.lostAnswerScenarios += 1;
      }
}

export interface OwnershipSizes {
  routes: WriteRoute[];
  modes: ProxyMode[];
  importModes: ("strict" | "partial")[];
  killVariants: ProxyMode[];
  maxKillPoints: number;
  concurrentRounds: number;
  sequences: number;
  sequenceLength: number;
  seed: number;
}
