/**
 * Kill points at named host writes of an import (issue #23 item 4): the CLI is killed with SIGKILL
 * when its request reaches the proxy, the host acts only once the process is dead, so nobody ever
 * records the answer. Then `relay batch recover` in a fresh process, and the host is judged: what
 * relay made there is in its records as live; after every batch is rolled back nothing relay made
 * is live, and the operator's own resources are as they were.
 */
import { sql } from "kysely";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { getBatchRow, listBatches } from "../../src/store/batches.js";
import { runRelay } from "../helpers/cli.js";
import { rows } from "../helpers/context.js";
import { checkConsistency } from "../helpers/invariants.js";
import { deepseekKey, liveOnHost } from "../helpers/world.js";
import type { ProxiedWorld } from "./lost-answers.js";
import { importArgs, keysFile, runKilledAt } from "./ownership-suite.js";
import type { SecretLedger } from "./suite.js";

export interface KillPoint {
  name: string;
  /** The host write (`METHOD /path`) the process dies at, and which of them (1-based). */
  match: RegExp;
  nth: number;
  /** The batch's status when the process died: where the saga was. */
  batchStatus: "running" | "succeeded";
}

const ASSIGN = /^POST \/api\/v1\/admin\/subscriptions\/assign$/;
const PROBE_KEY = /^POST \/api\/v1\/keys$/;

/** The import subscribes alice (step 6), then proves access (probe subscription, probe key). */
export const KILL_POINTS: KillPoint[] = [
  { name: "alice's subscription (step 6)", match: ASSIGN, nth: 1, batchStatus: "running" },
  { name: "the probe's subscription (access proof)", match: ASSIGN, nth: 2, batchStatus: "succeeded" },
  { name: "the probe's key (access proof)", match: PROBE_KEY, nth: 1, batchStatus: "succeeded" },
];

export interface KillFigures {
  /** Live on the host, made by relay, not recorded as live once recovery ran. */
  unrecorded: number;
  /** Made by relay and still live once every batch was rolled back. */
  liveAfterRollback: number;
  foreignTouched: number;
  problems: string[];
}

function probeKeys(w: ProxiedWorld) {
  const s = w.sim.sim.state;
  const probe = [...s.users.values()].find((u) => u.email.startsWith("relay-probe-"));
  return s.liveKeys().filter((k) => k.userId === probe?.id);
}

export async function killAtWrite(
  w: ProxiedWorld,
  point: KillPoint,
  ledger: SecretLedger,
): Promise<KillFigures> {
  const f: KillFigures = { unrecorded: 0, liveAfterRollback: 0, foreignTouched: 0, problems: [] };
  const foreignBefore = w.foreign();
  const before = new Set((await listBatches(w.ctx)).map((b) => b.batch_id));
  const file = keysFile(w, "kill-at-write", [deepseekKey(), deepseekKey()], ledger);
  const killed = await runKilledAt(
    w,
    importArgs(w, "deepseek", file, "strict"),
    point.nth,
    "drop",
    ledger,
    point.match,
  );
  await w.proxy.settle();
  const batch = (await listBatches(w.ctx)).find((b) => !before.has(b.batch_id));
  if (!killed || !batch) {
    f.problems.push(`the import never reached ${point.name}`);
    return f;
  }
  if (batch.status !== point.batchStatus)
    f.problems.push(
      `killed with the batch ${batch.status}, not ${point.batchStatus}: not the interleaving meant`,
    );

  const recover = await runRelay(["--json", "batch", "recover"], { env: w.t.env });
  ledger.text(recover.stdout + recover.stderr);
  if (recover.code !== 0)
    f.problems.push(`recovery exit ${recover.code}: ${recover.stdout}${recover.stderr}`);

  // From the host: every live resource relay made is one its records hold as live.
  const c = await checkConsistency(w.ctx, w.sim);
  const recordedKeys = new Set(
    (
      await rows<{ id: number }>(
        w.ctx,
        sql`SELECT host_resource_id AS id FROM managed_resources WHERE resource_type = 'probe_key' AND state IN ('created', 'reused')`,
      )
    ).map((r) => r.id),
  );
  const unrecorded = [
    ...c.orphans,
    ...c.lostBatches.map((b) => `a resource of unknown batch ${b}`),
    ...probeKeys(w)
      .filter((k) => !recordedKeys.has(k.id))
      .map((k) => `probe key ${k.name} (#${k.id})`),
  ];
  f.unrecorded += unrecorded.length;
  for (const u of unrecorded) f.problems.push(`after recovery, live on the host but not recorded: ${u}`);
  for (const u of [...c.unfinished, ...c.phantoms]) f.problems.push(`after recovery: ${u}`);

  for (const b of await listBatches(w.ctx)) {
    if ((await getBatchRow(w.ctx, b.batch_id)).status === "rolled_back") continue;
    await rollbackBatch(w.ctx, b.batch_id).catch((err: Error) =>
      f.problems.push(`rollback ${b.batch_id}: ${err.message}`),
    );
  }
  const live = liveOnHost(w.sim);
  const left = [
    ...live.groups.map((g) => `group ${g.name}`),
    ...live.accounts.map((a) => `account ${a.name}`),
    ...live.channels.map((x) => `channel ${x.name}`),
    ...live.plans.map((p) => `plan ${p.name}`),
    ...live.subscriptions.map((x) => `subscription #${x.id} of user ${x.userId}`),
    ...probeKeys(w).map((k) => `probe key ${k.name}`),
  ];
  f.liveAfterRollback += left.length;
  for (const l of left) f.problems.push(`still live after rollback: ${l}`);
  if (w.foreign() !== foreignBefore) {
    f.foreignTouched += 1;
    f.problems.push(`the operator's own resources changed: ${foreignBefore} → ${w.foreign()}`);
  }
  return f;
}
