import type { AppContext } from "../app/context.js";
import { type Finding, orphanAction } from "../domain/drift.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { deleteHostResource } from "../steps/delete-resource.js";
import { getBatchRow } from "../store/batches.js";
import { resourcesOf, updateResource } from "../store/resources.js";

/** Children before parents, so a group is never deleted while an account of it is live. */
const DELETE_ORDER = ["account", "plan", "channel", "group"];

/**
 * Settles the `unexpected` findings that are this installation's own lost creates: each is matched
 * to its record by type and name (the name carries the marker) and adopted into its live batch, or
 * deleted when its batch was rolled back. Settled findings are marked healed and say what was done;
 * the rest stay findings. Returns one line per act.
 */
export async function resolveLostCreates(
  ctx: AppContext,
  adapter: HostAdapter,
  hostId: string,
  providerId: string,
  findings: Finding[],
): Promise<string[]> {
  const records = await resourcesOf(ctx, providerId, hostId);
  const done: string[] = [];
  const orphans = findings
    .filter((f) => f.kind === "unexpected" && f.host_resource_id !== null)
    .sort((a, b) => DELETE_ORDER.indexOf(a.resource_type) - DELETE_ORDER.indexOf(b.resource_type));
  for (const f of orphans) {
    const record = records.find((r) => r.resourceType === f.resource_type && r.name === f.name);
    const batch = record?.batchId ? await getBatchRow(ctx, record.batchId) : undefined;
    const action = orphanAction(record, batch?.status);
    if (action === "report" || !record || !batch) continue;
    const id = f.host_resource_id as number;
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
  return done;
}
