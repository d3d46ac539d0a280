import { type Axes, deriveAxes, type HostReachability, hostReachability } from "../domain/axes.js";
import { AppError } from "../domain/errors.js";
import type { ProviderFacts } from "../domain/status.js";
import type { StoreContext } from "../store/db.js";
import { appendEvent, lastHostEvent } from "../store/events.js";
import { listHostRows } from "../store/hosts.js";
import { type InstallRow, listInstalls, providerFacts } from "../store/installs.js";
import { factsFromRow, HOST_PROBE_FAILED, type ProviderFactsRow } from "../store/provider-facts.js";
import type { HostRow } from "../store/schema.js";
import { printable } from "../util/sanitize.js";

/**
 * A failed probe is kept as an event (the host's reachability is read from it): its code and a
 * short, printable message. The snapshot and the last successful probe time stay as they were.
 */
export async function recordProbeFailure(
  ctx: StoreContext & { logger?: { info: (obj: object, msg: string) => void } },
  row: HostRow,
  err: unknown,
): Promise<void> {
  const code = err instanceof AppError ? err.code : "INTERNAL";
  const message = printable(err instanceof Error ? err.message : String(err), { max: 200 });
  await appendEvent(ctx, { kind: HOST_PROBE_FAILED, hostId: row.id, message, data: { code } });
}

/** Whether the host answered its newest probe, when it last did, and the newest failure since. */
export async function reachabilityOf(ctx: StoreContext, row: HostRow): Promise<HostReachability> {
  const failure = await lastHostEvent(ctx, row.id, HOST_PROBE_FAILED);
  return hostReachability(
    row.lastProbedAt,
    failure && { at: failure.at, code: String(failure.data.code ?? ""), message: failure.message },
  );
}

/** Every registered host's reachability by its id, for the views that show providers on hosts. */
export async function hostReachabilities(ctx: StoreContext): Promise<Map<string, HostReachability>> {
  const rows = await listHostRows(ctx);
  return new Map(
    await Promise.all(rows.map(async (row) => [row.id, await reachabilityOf(ctx, row)] as const)),
  );
}

/**
 * Both axes of a provider on a host, as every view shows them: from the stored facts the status
 * is decided from, and the host's reachability at its last probe (an unreachable host makes the
 * health unknown). Read each time, so a probe's verdict shows at once.
 */
export async function axesOn(
  ctx: StoreContext,
  install: InstallRow,
  reach: HostReachability | undefined,
): Promise<Axes> {
  return axesOf(await providerFacts(ctx, install), reach);
}

function axesOf(facts: ProviderFacts, reach: HostReachability | undefined): Axes {
  const host = reach && {
    reachable: reach.reachable,
    reason: reach.last_error?.message ?? "no probe has passed yet",
  };
  return deriveAxes({ ...facts, ...(host ? { host } : {}) });
}

/** The host's reachability and both axes from a facts row (store/provider-facts.ts), as `axesOn` reads them. */
export function axesOfRow(
  providerId: string,
  row: ProviderFactsRow,
): { reach: HostReachability; axes: Axes } {
  const failure =
    row.probeFailedAt === null
      ? undefined
      : {
          at: row.probeFailedAt,
          code: String((JSON.parse(row.probeFailedData ?? "{}") as { code?: unknown }).code ?? ""),
          message: row.probeFailedMessage as string,
        };
  const reach = hostReachability(row.hostLastProbedAt, failure);
  return { reach, axes: axesOf(factsFromRow(providerId, row), reach) };
}

/** The gauges' view: each install's two axes and each host's reachability, labelled by host name. */
export async function axesGauges(ctx: StoreContext): Promise<{
  providers: { host: string; provider: string; health: string; sync: string }[];
  hosts: { host: string; reachable: string }[];
}> {
  const rows = await listHostRows(ctx);
  const names = new Map(rows.map((h) => [h.id, h.name]));
  const reach = await hostReachabilities(ctx);
  const providers = [];
  for (const i of await listInstalls(ctx)) {
    const axes = await axesOn(ctx, i, reach.get(i.hostId));
    const host = names.get(i.hostId) ?? i.hostId;
    providers.push({ host, provider: i.providerId, health: axes.health.state, sync: axes.sync.state });
  }
  return {
    providers,
    hosts: rows.map((h) => ({ host: h.name, reachable: reach.get(h.id)?.reachable ?? "unknown" })),
  };
}
