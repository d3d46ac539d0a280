/**
 * Kill points, concurrent imports, a second installation and random operation sequences, each
 * judged from the simulator's state (see lost-answers.ts for the single-fault scenarios).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { importKeys } from "../../src/provision/import.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { listBatches } from "../../src/store/batches.js";
import { projectRoot } from "../../src/util/paths.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { makeTestEnv } from "../helpers/context.js";
import type { ProxyMode } from "../helpers/fault-proxy.js";
import { checkConsistency } from "../helpers/invariants.js";
import { deepseekKey, liveOnHost } from "../helpers/world.js";
import {
  judgeHost,
  type ProfileFigures,
  type ProxiedWorld,
  proxiedContext,
  recordsLost,
  runImport,
  settleAndRollBackAll,
  unclear,
  WRITE_ROUTES,
} from "./lost-answers.js";
import type { SecretLedger } from "./suite.js";

/** Every request that can change the host: the points a process can be killed at. */
const WRITE = /^(POST|PUT|DELETE) /;

export function keysFile(w: ProxiedWorld, name: string, keys: string[], ledger: SecretLedger): string {
  for (const k of keys) ledger.secret(k);
  const file = join(w.t.dir, `${name}.keys`);
  writeFileSync(file, `${keys.join("\n")}\n`);
  return file;
}

export function importArgs(w: ProxiedWorld, provider: string, file: string, mode: string): string[] {
  const caps = w.sim.sim.profile;
  return [
    "--json",
    "provider",
    "import",
    provider,
    "--host",
    "sim",
    "--keys-file",
    file,
    "--mode",
    mode,
    "--subscribe",
    String(w.alice),
    ...(caps.chatCompletions ? ["--access-mode", "subscription"] : []),
    ...(caps.paymentPlans ? ["--with-plan"] : []),
    "--yes",
  ];
}

/**
 * Runs the CLI and kills it with SIGKILL when the proxy sees its k-th write (of those `match`
 * names); the write reaches the host (`drop`) only once the process is dead, so nobody records its
 * answer. Resolves true when the kill landed.
 */
export async function runKilledAt(
  w: ProxiedWorld,
  args: string[],
  k: number,
  mode: ProxyMode,
  ledger: SecretLedger,
  match: RegExp = WRITE,
) {
  const child = spawn(process.execPath, [RELAY_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...w.t.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  let killed = false;
  w.proxy.arm({
    match,
    nth: k,
    mode,
    onHit: () => {
      killed = true;
      child.kill("SIGKILL");
      return exited;
    },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await new Promise((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  w.proxy.disarm();
  ledger.text(out);
  return killed;
}

/**
 * SIGKILL at every write of an import and of a rollback, before the host acts (`refuse`) and after
 * it acted (`drop`); then `relay batch recover`, a check that everything live is recorded, rollback
 * of everything, and the host judged.
 */
export async function killPoints(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  options: { importModes: ("strict" | "partial")[]; variants: ProxyMode[]; maxPoints: number },
): Promise<void> {
  for (const importMode of options.importModes)
    for (const variant of options.variants)
      for (let k = 1; k <= options.maxPoints; k++) {
        const label = `kill at write ${k} of an import (${importMode}, ${variant})`;
        const foreignBefore = w.foreign();
        const file = keysFile(w, `kill-${k}`, [deepseekKey(), deepseekKey()], ledger);
        const killed = await runKilledAt(w, importArgs(w, "deepseek", file, importMode), k, variant, ledger);
        await afterKill(w, f, label, foreignBefore, ledger);
        if (!killed) break; // the import made fewer than k writes: every point of it was tried
        f.killPoints += 1;
      }
  for (const variant of options.variants)
    for (let k = 1; k <= options.maxPoints; k++) {
      const label = `kill at write ${k} of a rollback (${variant})`;
      const foreignBefore = w.foreign();
      const batch = await runImport(w, "strict", ledger);
      const killed = await runKilledAt(
        w,
        ["--json", "batch", "rollback", batch.batch_id, "--yes"],
        k,
        variant,
        ledger,
      );
      await afterKill(w, f, label, foreignBefore, ledger);
      if (!killed) break;
      f.killPoints += 1;
    }
}

async function afterKill(
  w: ProxiedWorld,
  f: ProfileFigures,
  label: string,
  foreignBefore: string,
  ledger: SecretLedger,
) {
  await w.proxy.settle();
  const recover = await runRelay(["--json", "batch", "recover"], { env: w.t.env });
  ledger.text(recover.stdout + recover.stderr);
  if (recover.code !== 0)
    f.problems.push(`${w.profile} ${label}: recovery exit ${recover.code}: ${recover.stdout}`);
  await reconcileProvider(w.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli" }).catch(
    () => undefined,
  );
  await recordsLost(w, f, label);
  for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} ${label}: ${n}`);
  judgeHost(w, f, label, foreignBefore);
}

const PROVIDER_KEYS: Record<string, () => string> = {
  deepseek: deepseekKey,
  kimi: deepseekKey,
  qwen: deepseekKey,
};

/** Several `relay` processes importing different providers through one database at once. */
export async function concurrentRounds(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  rounds: number,
) {
  for (let round = 0; round < rounds; round++) {
    const foreignBefore = w.foreign();
    const runs = await Promise.all(
      Object.entries(PROVIDER_KEYS).map(([provider, key]) =>
        runRelay(importArgs(w, provider, keysFile(w, `${provider}-${round}`, [key()], ledger), "strict"), {
          env: w.t.env,
          timeoutMs: 60_000,
        }),
      ),
    );
    for (const r of runs) {
      ledger.text(r.stdout + r.stderr);
      if (r.code !== 0 || /database is locked|internal error/i.test(r.stderr))
        f.problems.push(`${w.profile} concurrent round ${round}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
    }
    await recordsLost(w, f, `concurrent round ${round}`);
    for (const n of await settleAndRollBackAll(w))
      f.problems.push(`${w.profile} concurrent round ${round}: ${n}`);
    judgeHost(w, f, `concurrent round ${round}`, foreignBefore);
    f.concurrentRounds += 1;
  }
}

/** A second relay installation on the same host imports and rolls back; the first's resources stay as they were. */
export async function secondInstall(w: ProxiedWorld, f: ProfileFigures, ledger: SecretLedger) {
  const first = await runImport(w, "strict", ledger);
  const before = JSON.stringify(liveOnHost(w.sim, first.batch_id));
  const t2 = await makeTestEnv({ RELAY_HOST_TIMEOUT_MS: "300" });
  try {
    const ctx2 = await proxiedContext(t2, ledger);
    await installPack(ctx2, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    await addHost(ctx2, { name: "sim", baseUrl: w.proxy.url, adminKey: w.sim.sim.state.adminApiKey });
    const keys = [deepseekKey()];
    for (const k of keys) ledger.secret(k);
    const other = await importKeys(ctx2, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    await rollbackBatch(ctx2, other.batch_id);
    const after = JSON.stringify(liveOnHost(w.sim, first.batch_id));
    if (after !== before) {
      f.foreignTouched += 1;
      f.problems.push(`${w.profile} second install: the first install's resources changed`);
    }
  } finally {
    await t2.cleanup();
  }
  const foreignBefore = w.foreign();
  for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} second install: ${n}`);
  judgeHost(w, f, "second install", foreignBefore);
}

type Step =
  | { kind: "import"; mode: "strict" | "partial" }
  | { kind: "fault"; route: number; fault: ProxyMode; mode: "strict" | "partial" }
  | { kind: "kill"; at: number }
  | { kind: "recover" }
  | { kind: "reconcile"; heal: boolean }
  | { kind: "hand-edit"; what: "delete-account" | "unbind-account" | "revoke-subscription" }
  | { kind: "rollback"; pick: number };

const IMPORT_ROUTES = WRITE_ROUTES.filter((r) => r.phase === "import");
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("import" as const),
    mode: fc.constantFrom("strict" as const, "partial" as const),
  }),
  fc.record({
    kind: fc.constant("fault" as const),
    route: fc.nat({ max: IMPORT_ROUTES.length - 1 }),
    fault: fc.constantFrom<ProxyMode>("drop", "503", "hang", "late"),
    mode: fc.constantFrom("strict" as const, "partial" as const),
  }),
  fc.record({ kind: fc.constant("kill" as const), at: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant("recover" as const) }),
  fc.record({ kind: fc.constant("reconcile" as const), heal: fc.boolean() }),
  fc.record({
    kind: fc.constant("hand-edit" as const),
    what: fc.constantFrom(
      "delete-account" as const,
      "unbind-account" as const,
      "revoke-subscription" as const,
    ),
  }),
  fc.record({ kind: fc.constant("rollback" as const), pick: fc.nat({ max: 5 }) }),
);

async function runStep(w: ProxiedWorld, s: Step, ledger: SecretLedger): Promise<void> {
  switch (s.kind) {
    case "import":
      ledger.text(JSON.stringify(await runImport(w, s.mode, ledger)));
      return;
    case "fault": {
      w.proxy.arm({ match: (IMPORT_ROUTES[s.route] ?? IMPORT_ROUTES[0])?.match as RegExp, mode: s.fault });
      try {
        ledger.text(JSON.stringify(await runImport(w, s.mode, ledger)));
      } finally {
        w.proxy.disarm();
      }
      return;
    }
    case "kill": {
      const file = keysFile(w, `seq-${Date.now()}`, [deepseekKey()], ledger);
      await runKilledAt(w, importArgs(w, "deepseek", file, "partial"), s.at, "drop", ledger);
      return;
    }
    case "recover":
      await recoverBatches(w.ctx);
      return;
    case "reconcile":
      ledger.text(
        JSON.stringify(
          await reconcileProvider(
            w.ctx,
            { hostRef: "sim", providerId: "deepseek" },
            { trigger: "cli", heal: s.heal },
          ),
        ),
      );
      return;
    case "hand-edit": {
      const live = liveOnHost(w.sim);
      if (s.what === "revoke-subscription") {
        const sub = live.subscriptions[0];
        if (sub) sub.status = "revoked";
        return;
      }
      const acct = live.accounts[0];
      if (!acct) return;
      if (s.what === "delete-account") acct.deletedAt = Date.now();
      else acct.groupIds = [];
      return;
    }
    case "rollback": {
      const live = (await listBatches(w.ctx, {})).filter((b) => b.status !== "rolled_back");
      const b = live[s.pick % Math.max(live.length, 1)];
      if (b) ledger.text(JSON.stringify(await rollbackBatch(w.ctx, b.batch_id)));
      return;
    }
  }
}

/**
 * Random sequences of import / fault / kill / recover / reconcile / hand-edit / rollback
 * (fast-check). After every step: nothing foreign touched and no relay-made resource names a batch
 * relay has no record of. After every sequence: everything settled and rolled back, host clean.
 */
export async function randomSequences(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  options: { runs: number; seed: number; maxLength: number },
): Promise<void> {
  const foreignBefore = w.foreign();
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: options.maxLength }), async (steps) => {
      const problems: string[] = [];
      for (const [i, s] of steps.entries()) {
        try {
          await runStep(w, s, ledger);
        } catch (err) {
          ledger.text(String(err));
          if (unclear(err)) problems.push(`step ${i} ${s.kind}: unclear failure: ${String(err)}`);
        }
        await w.proxy.settle();
        if (w.foreign() !== foreignBefore)
          problems.push(`step ${i} ${s.kind}: the operator's resources changed`);
        const lost = (await checkConsistency(w.ctx, w.sim)).lostBatches;
        if (lost.length > 0)
          problems.push(`step ${i} ${s.kind}: host resources name unknown batches ${lost}`);
      }
      const label = `sequence ${JSON.stringify(steps.map((s) => s.kind))}`;
      const before = f.orphans + f.foreignTouched + f.problems.length;
      for (const n of await settleAndRollBackAll(w)) problems.push(n);
      judgeHost(w, f, label, foreignBefore);
      f.randomSequences += 1;
      for (const p of problems) f.problems.push(`${w.profile} ${label}: ${p}`);
      return problems.length === 0 && f.orphans + f.foreignTouched + f.problems.length === before;
    }),
    { numRuns: options.runs, seed: options.seed, endOnFailure: true },
  );
}
