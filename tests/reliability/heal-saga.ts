/**
 * Heal as a saga (#29 R1) and adoption only of relay's own unresolved creates (#29 R4), judged
 * from the simulator's state:
 * - a hand-deleted channel re-created by `--heal` whose answer is lost (drop, 503, held past the
 *   timeout, delivered late), whose request never arrives (refuse), or whose process is killed
 *   after sending (or before the host acts): the next heal does not fail on it and leaves one
 *   channel, nothing relay made is unrecorded, and after rollback nothing relay made is live;
 * - an operator's look-alike account (relay's name, their own key, no tag or a forged one) in
 *   place of relay's account they deleted: `--heal` and rollback leave it exactly as it was.
 */
import { ownershipTag } from "../../src/domain/naming.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { getBatchRow } from "../../src/store/batches.js";
import { runRelay } from "../helpers/cli.js";
import type { ProxyMode } from "../helpers/fault-proxy.js";
import { deepseekKey, liveOnHost } from "../helpers/world.js";
import {
  judgeHost,
  type ProfileFigures,
  type ProxiedWorld,
  recordsLost,
  runImport,
  settleAndRollBackAll,
  unclear,
} from "./lost-answers.js";
import { runKilledAt } from "./ownership-suite.js";
import type { SecretLedger } from "./suite.js";

const CHANNEL_CREATE = /^POST \/api\/v1\/admin\/channels$/;
const HEAL_ARGS = ["--json", "provider", "reconcile", "deepseek", "--host", "sim", "--heal"];

const heal = (w: ProxiedWorld) =>
  reconcileProvider(w.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli", heal: true });

/** An import whose channel the operator then deletes by hand; undefined on a host without channels. */
async function importAndDeleteChannel(w: ProxiedWorld, ledger: SecretLedger) {
  const r = await runImport(w, "strict", ledger);
  const channel = liveOnHost(w.sim, r.batch_id).channels[0];
  if (r.status !== "succeeded" || !channel) return undefined;
  w.sim.sim.state.channels.delete(channel.id);
  return r.batch_id;
}

/**
 * After the fault: a second heal must not stumble on the first one's channel (sub2api refuses a
 * second channel on a group, 409), and while the batch is live every channel relay made is recorded.
 */
async function judgeNextHeal(w: ProxiedWorld, f: ProfileFigures, label: string, ledger: SecretLedger) {
  await w.proxy.settle();
  const next = await heal(w).catch((err: unknown) => {
    f.problems.push(`${w.profile} ${label}: the next heal failed: ${String(err)}`);
    return undefined;
  });
  ledger.text(JSON.stringify(next ?? {}));
  for (const line of next?.healed ?? [])
    if (/could not/.test(line)) f.problems.push(`${w.profile} ${label}: the next heal: ${line}`);
  const channels = liveOnHost(w.sim).channels.length;
  if (channels !== 1)
    f.problems.push(
      `${w.profile} ${label}: ${channels} channel(s) of relay's live after the next heal, not 1`,
    );
  await recordsLost(w, f, label);
}

/** The channel re-create under each lost-answer mode, then settled and rolled back; judged from the host. */
export async function healChannelLostAnswers(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  modes: ProxyMode[],
): Promise<void> {
  if (!w.sim.sim.profile.channels) return;
  for (const mode of modes) {
    const label = `channel re-create (heal) / ${mode}`;
    const foreignBefore = w.foreign();
    const batchId = await importAndDeleteChannel(w, ledger);
    if (!batchId) {
      f.problems.push(`${w.profile} ${label}: the import made no channel`);
      continue;
    }
    const hits = w.proxy.hits.length;
    w.proxy.arm({ match: CHANNEL_CREATE, mode });
    try {
      ledger.text(JSON.stringify(await heal(w)));
    } catch (err) {
      ledger.text(String(err));
      if (unclear(err)) f.problems.push(`${w.profile} ${label}: unclear failure: ${String(err)}`);
    }
    w.proxy.disarm();
    if (w.proxy.hits.length === hits) f.problems.push(`${w.profile} ${label}: heal never sent the create`);
    await judgeNextHeal(w, f, label, ledger);
    for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} ${label}: ${n}`);
    judgeHost(w, f, label, foreignBefore);
    f.lostAnswerScenarios += 1;
  }
}

/**
 * `relay provider reconcile --heal` killed with SIGKILL as its channel create reaches the proxy:
 * `drop`, the host acts after the death; `refuse`, the request never reaches the host.
 */
export async function healChannelKill(
  w: ProxiedWorld,
  f: ProfileFigures,
  ledger: SecretLedger,
  variant: "drop" | "refuse" = "drop",
): Promise<void> {
  if (!w.sim.sim.profile.channels) return;
  const label = `kill at heal's channel create (${variant})`;
  const foreignBefore = w.foreign();
  if (!(await importAndDeleteChannel(w, ledger))) {
    f.problems.push(`${w.profile} ${label}: the import made no channel`);
    return;
  }
  const killed = await runKilledAt(w, HEAL_ARGS, 1, variant, ledger, CHANNEL_CREATE);
  if (!killed) f.problems.push(`${w.profile} ${label}: heal never sent the create`);
  await w.proxy.settle();
  const recover = await runRelay(["--json", "batch", "recover"], { env: w.t.env });
  ledger.text(recover.stdout + recover.stderr);
  if (recover.code !== 0) f.problems.push(`${w.profile} ${label}: recovery exit ${recover.code}`);
  await judgeNextHeal(w, f, label, ledger);
  for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} ${label}: ${n}`);
  judgeHost(w, f, label, foreignBefore);
  f.killPoints += 1;
}

/** The operator makes an account through the admin API, as they would by hand. */
async function operatorAccount(
  w: ProxiedWorld,
  name: string,
  notes: string,
  group: { id: number; platform: string },
  key: string,
) {
  const res = await fetch(`${w.sim.url}/api/v1/admin/accounts`, {
    method: "POST",
    headers: { "x-api-key": w.sim.sim.state.adminApiKey, "content-type": "application/json" },
    body: JSON.stringify({
      name,
      notes,
      platform: group.platform,
      type: "apikey",
      credentials: { api_key: key, base_url: "https://api.deepseek.com" },
      concurrency: 1,
      priority: 10,
      group_ids: [group.id],
    }),
  });
  const id = ((await res.json()) as { data?: { id?: number } }).data?.id;
  if (!res.ok || id === undefined) throw new Error(`operator account: ${res.status}`);
  return id;
}

/**
 * Relay's account deleted by hand and replaced by the operator's own under the same name — once
 * with no tag, once with relay's tag copied (forged). Relay's record of it had a confirmed host id:
 * nothing of relay's create is unresolved, so neither look-alike is adopted, deleted or unbound,
 * by `--heal`, by the rollback (which stops at the group they sit in) or by a later reconcile.
 */
export async function lookAlikeAccounts(w: ProxiedWorld, f: ProfileFigures, ledger: SecretLedger) {
  for (const variant of ["no tag", "forged tag"] as const) {
    const label = `look-alike account (${variant})`;
    const foreignBefore = w.foreign();
    const r = await runImport(w, "strict", ledger);
    const s = w.sim.sim.state;
    const mine = liveOnHost(w.sim, r.batch_id);
    const [account] = mine.accounts;
    const group = mine.groups[0];
    if (!account || !group) {
      f.problems.push(`${w.profile} ${label}: the import made no account`);
      continue;
    }
    account.deletedAt = Date.now();
    const key = deepseekKey();
    ledger.secret(key);
    const notes = variant === "no tag" ? "" : ownershipTag(w.ctx.installId, "deepseek", r.batch_id);
    const id = await operatorAccount(w, account.name, notes, group, key);
    const snapshot = () => {
      const a = s.accounts.get(id);
      const sameKey = a?.credentials.api_key === key;
      return JSON.stringify([a?.name, a?.notes, sameKey, a?.groupIds, a?.status, a?.deletedAt ?? null]);
    };
    const before = snapshot();
    const touched = (when: string) => {
      if (snapshot() === before) return;
      f.foreignTouched += 1;
      f.problems.push(
        `${w.profile} ${label}: ${when} changed the operator's account: ${before} → ${snapshot()}`,
      );
    };
    const healed = await heal(w);
    ledger.text(JSON.stringify(healed));
    if (healed.healed.some((line) => line.includes(`#${id}`)))
      f.problems.push(`${w.profile} ${label}: --heal settled the look-alike: ${healed.healed.join("; ")}`);
    const finding = healed.findings.find((x) => x.kind === "unexpected" && x.host_resource_id === id);
    if (!finding?.next_step?.includes("is not relay's"))
      f.problems.push(`${w.profile} ${label}: not reported as someone else's: ${JSON.stringify(finding)}`);
    touched("--heal");
    await rollbackBatch(w.ctx, r.batch_id).catch((err: Error) => ledger.text(err.message));
    touched("the rollback");
    if ((await getBatchRow(w.ctx, r.batch_id)).status === "rolled_back")
      f.problems.push(`${w.profile} ${label}: rolled back the group the look-alike sits in`);
    ledger.text(JSON.stringify(await heal(w).catch((err: Error) => err.message)));
    touched("a reconcile after the rollback");
    // The operator removes their look-alike; the rollback can then finish.
    const a = s.accounts.get(id);
    if (a) a.deletedAt = Date.now();
    for (const n of await settleAndRollBackAll(w)) f.problems.push(`${w.profile} ${label}: ${n}`);
    judgeHost(w, f, label, foreignBefore);
  }
}
