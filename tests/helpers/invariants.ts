import { sql } from "kysely";
import type { AppContext } from "../../src/app/context.js";
import type { RunningSim } from "../sim/sub2api/server.js";
import { rows } from "./context.js";
import { liveOnHost } from "./world.js";

export interface Consistency {
  /** Live host resources carrying relay's tag that the store does not hold as live. */
  orphans: string[];
  /** Batch ids found in host tags that have no batch record. */
  lostBatches: string[];
  /** Batches not in a final state. */
  unfinished: string[];
  /** Resources the store holds as live that the host no longer has. */
  phantoms: string[];
}

/** Compares the simulated host with the store: what a crash or a fault must never break. */
export async function checkConsistency(ctx: AppContext, sim: RunningSim): Promise<Consistency> {
  const live = liveOnHost(sim);
  const resources = await rows<{ type: string; id: number | null; state: string; batch: string }>(
    ctx,
    sql`SELECT resource_type AS type, host_resource_id AS id, state, batch_id AS batch FROM managed_resources`,
  );
  const liveRows = new Set(
    resources
      .filter((r) => ["created", "reused"].includes(r.state) && r.id !== null)
      .map((r) => `${r.type}:${r.id}`),
  );
  const batches = new Set(
    (await rows<{ id: string }>(ctx, sql`SELECT id FROM import_batches`)).map((b) => b.id),
  );
  const onHost: [string, number, string][] = [
    ...live.groups.map((g) => ["group", g.id, g.description] as [string, number, string]),
    ...live.accounts.map((a) => ["account", a.id, a.notes] as [string, number, string]),
    ...live.channels.map((c) => ["channel", c.id, c.description] as [string, number, string]),
    ...live.plans.map((p) => ["plan", p.id, p.description] as [string, number, string]),
    ...live.subscriptions.map((s) => ["subscription", s.id, s.notes] as [string, number, string]),
  ];
  const orphans = onHost
    .filter(([type, id]) => !liveRows.has(`${type}:${id}`))
    .map(([type, id, tag]) => `${type}#${id} (${tag})`);
  const lostBatches = [
    ...new Set(
      onHost.map(([, , tag]) => /batch=(\S+)/.exec(tag)?.[1] ?? "").filter((b) => b && !batches.has(b)),
    ),
  ];
  const unfinished = (
    await rows<{ id: string; status: string }>(
      ctx,
      sql`SELECT id, status FROM import_batches WHERE status NOT IN ('succeeded','partially_succeeded','failed','rolled_back')`,
    )
  ).map((b) => `${b.id}:${b.status}`);
  const hostIds = new Set(onHost.map(([type, id]) => `${type}:${id}`));
  const phantoms = [...liveRows].filter((k) => !hostIds.has(k) && !k.startsWith("probe_"));
  return { orphans, lostBatches, unfinished, phantoms };
}
