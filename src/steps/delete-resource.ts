import type { HostAdapter, UserSession } from "../host/sub2api/index.js";

/**
 * Deletes one resource relay made on the host, by its record type. A probe key belongs to the probe
 * user: only that user's session can delete it, so the caller that may meet one passes
 * `probeSession`.
 */
export async function deleteHostResource(
  adapter: HostAdapter,
  type: string,
  id: number,
  probeSession?: () => Promise<UserSession>,
): Promise<void> {
  switch (type) {
    case "subscription":
      await adapter.revokeSubscription(id);
      return;
    case "probe_key":
      if (!probeSession) throw new Error(`probe key #${id} can only be deleted as the probe user`);
      await adapter.deleteUserKey(await probeSession(), id);
      return;
    case "account":
      await adapter.deleteAccount(id);
      return;
    case "plan":
      await adapter.deletePlan(id);
      return;
    case "channel":
      await adapter.deleteChannel(id);
      return;
    case "group":
      await adapter.deleteGroup(id);
      return;
  }
}
