/**
 * The documented restore of an older SQLite database (#29 R9, docs/deployment.md "Backup and
 * restore"), through the CLI as shipped, judged from the simulator: a backup is taken, a second
 * import makes two accounts in the first import's group, the backup is put back. Then:
 * - reconcile finds the two accounts by their tag (this install, a batch the records lack) and
 *   offers `--heal` (heal action `adopt_restored`, with a next step);
 * - rolling back the first batch stops at its group, which still holds them (a clear reason;
 *   from the host: the group and both accounts in it are live);
 * - `--heal` records the second batch again; rolling back both leaves nothing of relay's live.
 */
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { importKeys } from "../../src/provision/import.js";
import { closeDb } from "../../src/store/db.js";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, liveOnHost, makeWorld } from "../helpers/world.js";
import type { HostileFigures, SecretLedger } from "./suite.js";

interface Finding {
  kind: string;
  host_resource_id: number | null;
  heal_action: string | null;
  next_step: string | null;
  healed?: boolean;
}

export async function restoreScenario(ledger: SecretLedger): Promise<HostileFigures> {
  const f: HostileFigures = { tried: 0, refused: 0, problems: [] };
  const w = await makeWorld();
  const problem = (p: string) => f.problems.push(`restore: ${p}`);
  const relay = async (args: string[]) => {
    const r = await runRelay(["--json", ...args], { env: w.t.env });
    ledger.text(r.stdout + r.stderr);
    return { ...r, json: JSON.parse(r.stdout || r.stderr || "{}") as Record<string, unknown> };
  };
  try {
    const keys = [deepseekKey(), deepseekKey(), deepseekKey()];
    for (const k of keys) ledger.secret(k);
    const first = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [keys[0] as string],
      mode: "strict",
    });
    const backup = join(w.t.dir, "backup.db");
    // SQLite's online backup (what `sqlite3 relay.db ".backup FILE"` does), on its own connection.
    const source = new Database(w.t.dbPath, { readonly: true });
    await source.backup(backup);
    source.close();
    const file = join(w.t.dir, "later.keys");
    writeFileSync(file, `${keys[1]}\n${keys[2]}\n`);
    const later = await relay([
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
    ]);
    const laterId = later.json.batch_id as string;
    const made = liveOnHost(w.sim, laterId).accounts.map((a) => a.id);
    if (later.code !== 0 || made.length !== 2)
      problem(`the later import: exit ${later.code}, ${made.length} account(s)`);
    // The documented restore: stop, put the file back, remove -wal/-shm.
    await closeDb(w.t.ctx.db);
    copyFileSync(backup, w.t.dbPath);
    for (const ext of ["-wal", "-shm"]) rmSync(`${w.t.dbPath}${ext}`, { force: true });

    f.tried += 1;
    const seen = await relay(["provider", "reconcile", "deepseek", "--host", "sim"]);
    const offered = ((seen.json.findings ?? []) as Finding[]).filter(
      (x) => x.kind === "unexpected" && made.includes(x.host_resource_id as number),
    );
    if (offered.length !== 2 || offered.some((x) => x.heal_action !== "adopt_restored" || !x.next_step))
      problem(`reconcile after the restore offered ${JSON.stringify(offered)}`);

    const early = await relay(["batch", "rollback", first.batch_id, "--yes"]);
    const group = liveOnHost(w.sim, first.batch_id).groups[0];
    const held = w.sim.sim.state
      .liveAccounts()
      .filter((a) => made.includes(a.id) && group && a.groupIds.includes(group.id));
    if (
      early.code === 0 ||
      !/still holds 2 account/.test(early.stdout + early.stderr) ||
      !group ||
      held.length !== 2
    )
      problem(
        `rollback of the older batch under the later accounts: exit ${early.code}, group live ${!!group}, accounts in it ${held.length}: ${(early.stdout + early.stderr).slice(0, 300)}`,
      );

    const healed = await relay(["provider", "reconcile", "deepseek", "--host", "sim", "--heal"]);
    const adopted = ((healed.json.healed ?? []) as string[]).filter((x) => x.includes(`batch ${laterId}`));
    if (adopted.length !== 2) problem(`--heal adopted ${JSON.stringify(healed.json.healed)}`);
    for (const id of [laterId, first.batch_id]) {
      const r = await relay(["batch", "rollback", id, "--yes"]);
      if (r.code !== 0) problem(`rollback ${id}: exit ${r.code}: ${(r.stdout + r.stderr).slice(0, 300)}`);
    }
    const live = liveOnHost(w.sim);
    const left = [...live.groups, ...live.accounts, ...live.channels, ...live.plans].map((x) => x.name);
    if (left.length > 0) problem(`still live after both rollbacks: ${left.join(", ")}`);
    if (f.problems.length === 0) f.refused += 1;
  } finally {
    await w.close();
  }
  return f;
}
