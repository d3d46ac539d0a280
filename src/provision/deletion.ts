import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { nameMarker, parseOwnership } from "../domain/naming.js";
import type { HostAdapter, UserSession } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { deleteHostResource } from "../steps/delete-resource.js";
import { ensureProbeIdentity } from "../steps/probe-identity.js";
import { latestCapabilities } from "../store/hosts.js";
import { batchResources, type ResourceRow, updateResource } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";
import { chunk } from "../util/concurrency.js";

/** Record states of a resource a rollback still has to remove. */
export const UNDONE = ["create_pending", "created", "delete_pending", "failed"];

/** What deleting a batch's resources needs: the host, its adapter, and (for probe keys) the probe user's session. */
export interface Deleter {
  ctx: AppContext;
  host: HostRow;
  adapter: HostAdapter;
  batchId: string;
  batchDelete: boolean;
  probeSession: () => Promise<UserSession>;
}

export async function deleter(ctx: AppContext, host: HostRow, batchId: string): Promise<Deleter> {
  const adapter = await hostAdapterFor(ctx, host);
  let session: Promise<UserSession> | undefined;
  return {
    ctx,
    host,
    adapter,
    batchId,
    batchDelete: (await latestCapabilities(ctx, host.id)).batch_delete,
    // The probe key belongs to the probe user: only a session of that user can delete it.
    probeSession: () => {
      session ??= (async () => {
        const identity = await ensureProbeIdentity(ctx, host, adapter);
        if ("unverifiable" in identity)
          throw new Error(`cannot act as the probe user: ${identity.unverifiable}`);
        const login = await adapter.login(identity.email, identity.password);
        if (login.kind === "blocked") throw new Error(`the probe user cannot log in (${login.code})`);
        return login.session;
      })();
      return session;
    },
  };
}

/** Deletes the batch's live resources of one type; a failure is reported, never thrown. */
export async function deleteRows(d: Deleter, type: string, rows: ResourceRow[], failures: string[]) {
  const { ctx, batchId } = d;
  // A row without a host id was being created when the process stopped: find it by name.
  for (const row of rows.filter((r) => r.hostResourceId === null)) {
    const id = await locateByName(d, type, row);
    if (id === undefined) await updateResource(ctx, row.id, { state: "gone" });
    else await updateResource(ctx, row.id, { hostResourceId: id, state: "delete_pending" });
  }
  const pending = (await batchResources(ctx, batchId)).filter(
    (r) =>
      r.resourceType === type &&
      r.origin === "created" &&
      UNDONE.includes(r.state) &&
      r.hostResourceId !== null,
  );
  for (const r of pending) await updateResource(ctx, r.id, { state: "delete_pending" });
  if (type === "account" && d.batchDelete && pending.length > 0) {
    await deleteAccountsInBatches(d, pending, failures);
    return;
  }
  for (const r of pending) {
    const id = r.hostResourceId as number;
    try {
      await deleteHostResource(d.adapter, type, id, d.probeSession);
      await updateResource(ctx, r.id, { state: "deleted" });
    } catch (err) {
      failures.push(`${type} ${r.name} (#${id}): ${isHostError(err) ? err.message : String(err)}`);
    }
  }
}

async function deleteAccountsInBatches(d: Deleter, pending: ResourceRow[], failures: string[]) {
  for (const slice of chunk(pending, 100)) {
    const result = await d.adapter.deleteAccountsBatch(slice.map((r) => r.hostResourceId as number));
    const deleted = new Set(result.doneIds);
    const failed = new Map(result.failed.map((f) => [f.id, f.error]));
    for (const r of slice) {
      const id = r.hostResourceId as number;
      const error = failed.get(id);
      if (deleted.has(id) || (error !== undefined && /not found/i.test(error)))
        await updateResource(d.ctx, r.id, { state: "deleted" });
      else failures.push(`account ${r.name} (#${id}): ${error ?? "not deleted"}`);
    }
  }
}

/** The host id of a resource whose create answer was lost, found by its exact name (and tag); undefined when absent. */
export async function locateByName(d: Deleter, type: string, row: ResourceRow): Promise<number | undefined> {
  const { adapter } = d;
  const ours = (text: string | undefined) => parseOwnership(text)?.batchId === d.batchId;
  // The name carries the marker (install, provider, generation, key), so an exact match is ours
  // even on builds that drop the tag; a name from before markers also needs the tag.
  const same = (name: string, tag: string | undefined) =>
    name === row.name && (nameMarker(name) !== undefined || ours(tag));
  switch (type) {
    case "group":
      return (await adapter.listGroups({ search: row.name })).find((g) => same(g.name, g.description))?.id;
    case "channel":
      return (await adapter.listChannels({ search: row.name })).find((c) => same(c.name, c.description))?.id;
    case "plan":
      return (await adapter.listPlans()).find((p) => same(p.name, p.description))?.id;
    case "account":
      return (await adapter.listAccounts({ search: row.name })).find((a) => same(a.name, a.notes))?.id;
    case "probe_key":
      return (await adapter.listUserKeys(await d.probeSession())).find(
        (k) => k.name === row.name && k.status === "active",
      )?.id;
    case "subscription": {
      const attrs = row.attrs as { user_id?: number; group_id?: number };
      if (!attrs.user_id || !attrs.group_id) return undefined;
      const subs = await adapter.listSubscriptions({ userId: attrs.user_id, groupId: attrs.group_id });
      return subs.find((s) => s.status === "active" && ours(s.notes))?.id;
    }
    default:
      return undefined;
  }
}
