import type { AppContext } from "../../src/app/context.js";
import type { RunningSim } from "../sim/sub2api/server.js";
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
export function checkConsistency(ctx: AppContext, sim: RunningSim): Consistency {
  const live = liveOnHost(sim);
  const rows = ctx.db.$client
    .prepare(
      "SELECT resource_type AS type, host_resource_id AS id, state, batch_id AS batch FROM managed_resources",
    )
    .all() as { type: string; id: number | null; state: string; batch: string }[];
  const liveRows = new Set(
    rows
      .filter((r) => ["created", "reused"].includes(r.state) && r.id !== null)
      .map((r) => `${r.type}:${r.id}`),
  );
  const batches = new Set(
    (ctx.db.$client.prepare("SELECT id FROM import_batches").all() as { id: string }[]).map((b) => b.id),
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
    ctx.db.$client
      .prepare(
        "SELECT id, status FROM import_batches WHERE status NOT IN ('succeeded','partially_succeeded','failed','rolled_back')",
      )
      .all() as { id: string; status: string }[]
  ).map((b) => `${b.id}:${b.status}`);
  const hostIds = new Set(onHost.map(([type, id]) => `${type}:${id}`));
  const phantoms = [...liveRows].filter((k) => !hostIds.has(k) && !k.startsWith("probe_"));
  return { orphans, lostBatches, unfinished, phantoms };
}
