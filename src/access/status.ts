import type { AppContext } from "../app/context.js";
import { notFound } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import type { AccessStatusView } from "../steps/access-proof.js";
import { findHost } from "../store/hosts.js";
import { getInstall } from "../store/installs.js";
import { lastAccessRecord } from "../store/probes.js";

export { type AccessStatusView, runAccessProbe } from "../steps/access-proof.js";

/** The last recorded access proof, without calling the host. */
export async function lastAccessStatus(
  ctx: AppContext,
  hostRef: string,
  providerId: string,
): Promise<AccessStatusView> {
  const host = await findHost(ctx, hostRef);
  const row = await lastAccessRecord(ctx, host.id, providerId);
  if (!row)
    throw notFound("NO_ACCESS_RECORD", `access of ${providerId} on ${host.name} was never checked`, {
      hint: hint`Prove it now: ${act.accessProbe()}.`,
    });
  const { gateway, ...evidence } = row.evidence;
  return {
    host_id: host.id,
    host_name: host.name,
    provider_id: providerId,
    access_state: row.state,
    reason: row.reason,
    evidence,
    gateway: gateway ?? null,
    provider_status: (await getInstall(ctx, host.id, providerId))?.status ?? "validated",
    checked_at: row.createdAt,
  };
}
