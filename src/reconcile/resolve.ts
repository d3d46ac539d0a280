import type { AppContext } from "../app/context.js";
import type { Finding, Observed } from "../domain/drift.js";
import { orphanAction, unresolvedCreate } from "../domain/lost-creates.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { deleteHostResource } from "../steps/delete-resource.js";
import { getBatchRow } from "../store/batches.js";
import { type ResourceRow, resourcesOf, updateResource } from "../store/resources.js";
import { markRestored } from "./restored.js";

/** Children before parents, so a group is never deleted while an account of it is live. */
const DELETE_ORDER = ["account", "plan", "channel", "group"];

/** The tag (`description`, or an account's `notes`) of a listed host object. */
function tagOf(observed: Observed, type: string, id: number): string | undefined {
  switch (type) {
    case "group":
      return observed.groups.find((g) => g.id === id)?.description;
    case "account":
      return observed.accounts.find((a) => a.id === id)?.notes;
    case "channel":
      return observed.channels?.find((c) => c.id === id)?.description;
    case "plan":
      return observed.plans?.find((p) => p.id === id)?.description;
  }
  return undefined;
}

/**
 * Settles the `unexpected` findings that are this installation's own lost creates: each is matched
 * to its record by type and exact name, and only a create relay left unresolved whose host object
 * carries the tag relay sent is adopted into its live batch, or deleted when its batch was rolled
 * back (domain/lost-creates.ts). Settled findings are marked healed and say what was done; the
 * rest stay findings, a look-alike saying so, and what this installation made in a batch the
 * records do not hold (a restored database) is marked for `--heal` (restored.ts). Returns one
 * line per act.
 */
export async function resolveLostCreates(
  ctx: AppContext,
  adapter: HostAdapter,
  where: { hostId: string; providerId: string; observed: Observed },
  findings: Finding[],
): Promise<string[]> {
  const records = await resourcesOf(ctx, where.providerId, where.hostId);
  const done: string[] = [];
  const orphans = findings
    .filter((f) => f.kind === "unexpected" && f.host_resource_id !== null)
    .sort((a, b) => DELETE_ORDER.indexOf(a.resource_type) - DELETE_ORDER.indexOf(b.resource_type));
  for (const f of orphans) {
    const id = f.host_resource_id as number;
    const named = records.filter((r) => r.resourceType === f.resource_type && r.name === f.name);
    const record = named.find(unresolvedCreate) ?? named[0];
    const batch = record?.batchId ? await getBatchRow(ctx, record.batchId) : undefined;
    const tag = tagOf(where.observed, f.resource_type, id);
    const action = orphanAction(record, batch?.status, tag, { installId: ctx.installId, ...where });
    if (action === "report" || !record || !batch) {
      if (record) lookAlike(f, record, id);
      continue;
    }
    try {
      if (action === "adopt") {
        await updateResource(ctx, record.id, { hostResourceId: id, state: "created" });
        f.message = `${f.resource_type} ${f.name} (#${id}) was created but its answer was lost; adopted into batch ${batch.id}`;
      } else {
        await deleteHostResource(adapter, f.resource_type, id);
        await updateResource(ctx, record.id, { hostResourceId: id, state: "deleted" });
        f.message = `${f.resource_type} ${f.name} (#${id}) was created after batch ${batch.id} gave it up; deleted`;
      }
      f.healed = true;
      done.push(f.message);
    } catch (err) {
      done.push(`could not settle ${f.resource_type} ${f.name} (#${id}): ${(err as Error).message}`);
    }
  }
  const named = (f: Finding) => records.some((r) => r.resourceType === f.resource_type && r.name === f.name);
  await markRestored(ctx, { ...where, tagOf }, findings, named);
  findings.push(...(await neverArrived(ctx, records, where.observed)));
  return done;
}

/**
 * Heal's channel re-creates that never reached the host (refused, or the process died before
 * sending): the record has the name and no host id, the host no channel of that name. Missing
 * again — so the run says so and `--heal` creates it once more — instead of a channel silently gone.
 */
async function neverArrived(ctx: AppContext, records: ResourceRow[], observed: Observed): Promise<Finding[]> {
  const channels = observed.channels;
  if (!channels) return [];
  const out: Finding[] = [];
  for (const r of records) {
    if (r.resourceType !== "channel" || !unresolvedCreate(r) || r.attrs.replaced === undefined) continue;
    if (channels.some((c) => c.name === r.name) || r.batchId === null) continue;
    const { status } = await getBatchRow(ctx, r.batchId);
    if (status !== "succeeded" && status !== "partially_succeeded") continue;
    out.push({
      kind: "missing",
      resource_type: "channel",
      name: r.name,
      host_resource_id: null,
      message: `channel ${r.name} of batch ${r.batchId}: --heal re-created it, but the host has no channel of that name (the create never reached it); it is missing`,
    });
  }
  return out;
}

/** Says why an object with the name of one of relay's records is left alone (`field: "name"` when it is not relay's). */
function lookAlike(f: Finding, record: ResourceRow, id: number): void {
  const label = `${f.resource_type} ${f.name} (#${id})`;
  const answered = record.hostResourceId !== null && record.hostResourceId !== id;
  if (answered) {
    // Relay's own create of that name was answered with another id: this one is someone else's.
    f.field = "name";
    f.message = `${label} has the name of relay's ${f.resource_type} #${record.hostResourceId} of batch ${record.batchId}, but relay did not make it (that create was answered with #${record.hostResourceId}); left alone, never adopted`;
  } else if (unresolvedCreate(record))
    f.message = `${label} has the name of a create relay left unfinished in batch ${record.batchId}, but not the ownership tag relay sent with it; left alone, never adopted`;
}
