import type { AppContext } from "../app/context.js";
import { type Finding, healAction } from "../domain/drift.js";
import { mapProvider } from "../domain/mapping.js";
import { ownershipTag } from "../domain/naming.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import { type HostAdapter, type HostCapabilities, isHostError } from "../host/sub2api/index.js";
import { assignAndRecord } from "../steps/subscriptions.js";
import { type ResourceRow, updateResource } from "../store/resources.js";
import { groupOf } from "./observe.js";

interface Healer {
  ctx: AppContext;
  adapter: HostAdapter;
  def: ProviderDefinition;
  caps: HostCapabilities;
  version: string | null;
  rows: ResourceRow[];
}

/**
 * Repairs that need no plaintext key: re-bind an account to its group, re-assign a subscription,
 * re-create a channel. Missing accounts are left for re-import. Marks each finding it repaired.
 */
export async function heal(h: Healer, findings: Finding[]): Promise<string[]> {
  const skipped = new Set<Finding>();
  const done = await rebindInBulk(h, findings, skipped);
  for (const f of findings) {
    if (f.healed || skipped.has(f)) continue;
    const row = h.rows.find(
      (r) => r.resourceType === f.resource_type && r.hostResourceId === f.host_resource_id,
    );
    if (!row) continue;
    try {
      const repaired = await healOne(h, f, row);
      if (repaired) {
        f.healed = true;
        done.push(repaired);
      }
    } catch (err) {
      done.push(`could not heal ${f.resource_type} ${row.name}: ${(err as Error).message}`);
    }
  }
  return done;
}

const isRebind = (f: Finding) => healAction(f) === "rebind_account";

/**
 * Accounts that lost their group, re-bound with one `bulk-update` per group. An account the
 * answer does not confirm (refused, or the call failed) is left to the one-by-one path.
 */
async function rebindInBulk(h: Healer, findings: Finding[], skipped: Set<Finding>): Promise<string[]> {
  const byGroup = new Map<number, { f: Finding; row: ResourceRow }[]>();
  for (const f of findings.filter(isRebind)) {
    const row = h.rows.find((r) => r.resourceType === "account" && r.hostResourceId === f.host_resource_id);
    const gid = row ? groupOf(h.rows, row) : undefined;
    if (row && gid !== undefined) byGroup.set(gid, [...(byGroup.get(gid) ?? []), { f, row }]);
  }
  const done: string[] = [];
  for (const [gid, items] of byGroup) {
    if (items.length < 2) continue;
    let gone = false;
    const answer = await h.adapter
      .bulkUpdateAccountGroups(
        items.map((i) => i.row.hostResourceId as number),
        [gid],
      )
      .catch((err: unknown) => {
        // 2026 builds check the groups before binding any (admin_account.go:913-917@67380eafd):
        // a 404 GROUP_NOT_FOUND says the group itself is gone, so no account can be re-bound to it.
        gone = isHostError(err) && err.status === 404 && err.is("GROUP_NOT_FOUND");
        return undefined;
      });
    if (gone) {
      for (const { f } of items) skipped.add(f);
      done.push(`could not re-bind ${items.length} account(s): group #${gid} is gone from the host`);
      continue;
    }
    for (const { f, row } of items) {
      if (!answer?.doneIds.includes(row.hostResourceId as number)) continue;
      f.healed = true;
      done.push(`re-bound account ${row.name} to group #${gid}`);
    }
  }
  return done;
}

async function healOne(h: Healer, f: Finding, row: ResourceRow): Promise<string | undefined> {
  const gid = groupOf(h.rows, row);
  if (isRebind(f) && gid !== undefined) {
    await h.adapter.updateAccountGroups(row.hostResourceId as number, [gid]);
    return `re-bound account ${row.name} to group #${gid}`;
  }
  const action = healAction(f);
  if (action === "reassign_subscription") {
    const a = row.attrs as { user_id?: number; group_id?: number; validity_days?: number; probe?: boolean };
    if (!a.user_id || !a.group_id) return undefined;
    const grant = await assignAndRecord(h.ctx, h.adapter, {
      hostId: row.hostId,
      providerId: row.providerId,
      batchId: row.batchId ?? "",
      groupId: a.group_id,
      userId: a.user_id,
      validityDays: a.validity_days ?? 30,
      logicalKey: row.logicalKey,
      name: row.name,
      ...(a.probe ? { probe: true } : {}),
    });
    return grant.action === "created" ? `re-assigned the subscription of user ${a.user_id}` : undefined;
  }
  if (action === "recreate_channel" && gid !== undefined) {
    // The host may keep a deleted name: the new channel gets a suffixed one, and the record
    // follows it (name and id), so the next preview and import find it and reuse it.
    const name = `${baseName(row.name)}-r${Date.now().toString(36)}`;
    const ch = await h.adapter.createChannel({
      name,
      description: ownershipTag(h.ctx.installId, h.def.provider_id, row.batchId ?? ""),
      groupIds: [gid],
      modelPricing: mapProvider(h.def, { version: h.version, caps: h.caps }).pricing,
    });
    await updateResource(h.ctx, row.id, {
      hostResourceId: ch.id,
      name,
      attrs: { ...row.attrs, group_ids: ch.groupIds },
    });
    return `re-created channel for group #${gid} as ${name} (#${ch.id})`;
  }
  return undefined;
}

/** A channel re-created twice is `…-r<a>`, not `…-r<a>-r<b>`. */
const baseName = (name: string) => name.replace(/-r[0-9a-z]+$/, "");
