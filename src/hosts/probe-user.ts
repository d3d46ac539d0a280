import type { AppContext } from "../app/context.js";
import { hostAdapterFor } from "../app/host-access.js";
import { AppError, conflict, invalidInput, isAppError } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { OWNER_TAG, probeUserEmail } from "../domain/naming.js";
import type { HostAdapter, HostUser } from "../host/sub2api/index.js";
import { callHost } from "../steps/host-call.js";
import { appendEvent } from "../store/events.js";
import { clearProbeIdentity, findHost, probeUserGeneration, setProbeUserGeneration } from "../store/hosts.js";
import { liveResourcesOnHost, type ResourceRow, updateResource } from "../store/resources.js";
import type { HostRow } from "../store/schema.js";

/** What `relay host remove-probe-user` and `DELETE /api/hosts/{id}/probe-user` answer. */
export interface ProbeUserRemoval {
  host_id: string;
  host_name: string;
  dry_run: boolean;
  /** `would_remove`: the dry run's answer; `removed`: done now; `nothing_to_remove`: nothing relay made is there. */
  outcome: "would_remove" | "removed" | "nothing_to_remove";
  /** The user relay's records name; `on_host`: whether the host still has it (before this removal). */
  probe_user: { email: string; user_id: number | null; on_host: boolean } | null;
  /** The probe user's subscriptions relay assigned (revoked first). */
  subscriptions: { provider_id: string; subscription_id: number | null; group_id: number | null }[];
  /** The probe user's API keys relay made (the host deletes them with the user). */
  api_keys: { provider_id: string; key_id: number | null; name: string }[];
  /** Providers whose access proof used this user: their next proof creates a new probe user. */
  providers: string[];
  /** The address the next probe user gets (a removed address is never asked for again). */
  next_email: string;
  note: string;
}

interface Survey {
  host: HostRow;
  adapter: HostAdapter;
  generation: number;
  /** A removal was begun and did not finish: the intent (the next generation) is recorded already. */
  resuming: boolean;
  onHost: HostUser | undefined;
  subscriptions: ResourceRow[];
  keys: ResourceRow[];
}

const NOTE =
  "Removal is allowed whatever the providers' batches are: each keeps its last recorded access proof until the next one (`relay access status PROVIDER --host HOST --probe`, an import with an access mode, or the next reconcile), which creates the new probe user.";

/**
 * Removes relay's own probe user from a host (issue #25 item 6): its subscriptions relay assigned
 * are revoked, the user is deleted (sub2api deletes its API keys with it, 0.1.134+), and the host's
 * probe identity is forgotten, so the next proof creates a new user under the next generation's
 * address. Recorded as intent → host call → result: the intent (the next generation, the keys and
 * subscriptions `delete_pending`) before the host is called, so a run whose answer was lost is
 * resumed by running it again. Only the user relay created (`auto`): an operator's is refused.
 */
export async function removeProbeUser(
  ctx: AppContext,
  ref: string,
  options: { dryRun?: boolean } = {},
): Promise<ProbeUserRemoval> {
  const host = await findHost(ctx, ref);
  if (host.probeIdentity === "user")
    throw invalidInput(
      "PROBE_USER_NOT_RELAYS",
      `the probe user of host ${host.name} is the operator's (probe identity \`user\`); relay removes only the probe user it created`,
      { hint: "Delete it in sub2api yourself if it is no longer needed." },
    );
  const adapter = await hostAdapterFor(ctx, host);
  const s = await callHost(host, () => survey(ctx, host, adapter));
  const nothing = !host.probeUserEmail && s.subscriptions.length === 0 && s.keys.length === 0;
  if (nothing) return view(s, "nothing_to_remove", options.dryRun === true);
  if (options.dryRun) return view(s, "would_remove", true);
  try {
    await callHost(host, () => remove(ctx, s));
  } catch (mapped) {
    // The intent is recorded: whatever stopped it here, the same command resumes it.
    if (!isAppError(mapped)) throw mapped;
    throw new AppError(
      mapped.kind,
      mapped.code,
      `${mapped.message}; the probe user's removal is unfinished`,
      {
        details: mapped.details,
        hint: hint`Run ${act.hostRemoveProbeUser(host.name)} again: it resumes where this one stopped.`,
        cause: mapped.cause ?? mapped,
      },
    );
  }
  return view(s, "removed", false);
}

async function survey(ctx: AppContext, host: HostRow, adapter: HostAdapter): Promise<Survey> {
  const generation = await probeUserGeneration(ctx, host.id);
  const email = host.probeUserEmail;
  const resuming =
    email !== null && email.toLowerCase() !== probeUserEmail(host.id, generation).toLowerCase();
  let onHost: HostUser | undefined;
  if (email)
    onHost =
      host.probeUserId !== null
        ? await adapter.getUser(host.probeUserId)
        : await adapter.findUserByEmail(email);
  if (onHost && email && onHost.email.toLowerCase() !== email.toLowerCase())
    throw conflict(
      "PROBE_USER_CHANGED",
      `user #${onHost.id} on host ${host.name} is no longer relay's probe user ${email} (its address was changed on the host); nothing was removed`,
      {
        hint: "Delete it in sub2api yourself if it is relay's; relay deletes only a user with the address it gave.",
      },
    );
  if (onHost?.role === "admin")
    throw conflict(
      "PROBE_USER_IS_ADMIN",
      `user #${onHost.id} on host ${host.name} is an admin; sub2api refuses to delete admins and relay never tries`,
    );
  const subscriptions = (await liveResourcesOnHost(ctx, host.id, ["subscription"])).filter(
    (r) => (r.attrs as { probe?: unknown }).probe === true,
  );
  const keys = await liveResourcesOnHost(ctx, host.id, ["probe_key"]);
  return { host, adapter, generation, resuming, onHost, subscriptions, keys };
}

async function remove(ctx: AppContext, s: Survey): Promise<void> {
  const { host, adapter } = s;
  const email = host.probeUserEmail;
  const user = email ? `${email}${s.onHost ? ` (#${s.onHost.id})` : ""}` : "(none recorded)";
  if (!s.resuming) await setProbeUserGeneration(ctx, host.id, s.generation + 1);
  await appendEvent(ctx, {
    kind: "probe_user_removal_started",
    message: `removing relay's probe user ${user}, ${s.subscriptions.length} subscription(s) and ${s.keys.length} key(s) relay made for it`,
    hostId: host.id,
  });
  // Subscriptions first: sub2api's user delete leaves them (admin_user.go:351-394 @67380eafd).
  for (const row of s.subscriptions) {
    const id = row.hostResourceId ?? (await locateSubscription(ctx, adapter, row));
    if (id === undefined) {
      await updateResource(ctx, row.id, { state: "gone" });
      continue;
    }
    await updateResource(ctx, row.id, { state: "delete_pending", hostResourceId: id });
    const done = await adapter.revokeSubscription(id);
    await updateResource(ctx, row.id, { state: done === "revoked" ? "deleted" : "gone" });
  }
  for (const row of s.keys) await updateResource(ctx, row.id, { state: "delete_pending" });
  const outcome = s.onHost ? await adapter.deleteUser(s.onHost.id) : "already_gone";
  // The keys went with the user (0.1.134+: in the same transaction; older builds keep the rows, and
  // their gateway refuses a key whose user is gone, api_key_auth.go:77-81 @d3e73f1).
  for (const row of s.keys)
    await updateResource(ctx, row.id, { state: "deleted", attrs: { ...row.attrs, deleted_with_user: true } });
  if (email) await clearProbeIdentity(ctx, host.id, email);
  const next = probeUserEmail(host.id, await probeUserGeneration(ctx, host.id));
  await appendEvent(ctx, {
    kind: "probe_user_removed",
    message: `removed relay's probe user ${user}${outcome === "already_gone" ? " (it was already gone from the host)" : ""}; the next access proof creates ${next}`,
    hostId: host.id,
  });
}

/** A probe subscription whose assign answer was lost: the active one of the user in the group with relay's tag. */
async function locateSubscription(
  ctx: AppContext,
  adapter: HostAdapter,
  row: ResourceRow,
): Promise<number | undefined> {
  const attrs = row.attrs as { user_id?: number; group_id?: number };
  if (!attrs.user_id || !attrs.group_id) return undefined;
  const subs = await adapter.listSubscriptions({ userId: attrs.user_id, groupId: attrs.group_id });
  return subs.find(
    (x) =>
      x.status === "active" &&
      x.notes.includes(OWNER_TAG) &&
      x.notes.includes(`install=${ctx.installId}`) &&
      x.notes.includes(`provider=${row.providerId}`),
  )?.id;
}

function view(s: Survey, outcome: ProbeUserRemoval["outcome"], dryRun: boolean): ProbeUserRemoval {
  const { host } = s;
  const nextGeneration = s.resuming || outcome === "nothing_to_remove" ? s.generation : s.generation + 1;
  const providers = [...new Set([...s.subscriptions, ...s.keys].map((r) => r.providerId))].sort();
  return {
    host_id: host.id,
    host_name: host.name,
    dry_run: dryRun,
    outcome,
    probe_user: host.probeUserEmail
      ? {
          email: host.probeUserEmail,
          user_id: s.onHost?.id ?? host.probeUserId,
          on_host: s.onHost !== undefined,
        }
      : null,
    subscriptions: s.subscriptions.map((r) => ({
      provider_id: r.providerId,
      subscription_id: r.hostResourceId,
      group_id: (r.attrs as { group_id?: number }).group_id ?? null,
    })),
    api_keys: s.keys.map((r) => ({ provider_id: r.providerId, key_id: r.hostResourceId, name: r.name })),
    providers,
    next_email: probeUserEmail(host.id, nextGeneration),
    note: NOTE,
  };
}
