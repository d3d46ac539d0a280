import { randomBytes } from "node:crypto";
import type { AppContext } from "../app/context.js";
import { OWNER_TAG, probeUserEmail } from "../domain/naming.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { appendEvent } from "../store/events.js";
import { claimProbeIdentity, probeUserGeneration, saveProbeIdentity } from "../store/hosts.js";
import type { HostRow } from "../store/schema.js";
import { SECRET_PURPOSE } from "../util/secrets.js";

export interface ProbeIdentity {
  email: string;
  password: string;
  userId: number;
  /** The user's balance as the admin lookup saw it (standard groups need it above 0). */
  balance: number;
  /** This call created the user on the host (announced once: an event, and the caller's output). */
  created?: boolean;
}

/**
 * The control plane's own user on a host, used only to prove access (design §3). `auto` creates
 * it through the admin API with a random password kept encrypted; `user` uses the operator's;
 * `none` means access can never be verified on this host.
 */
export async function ensureProbeIdentity(
  ctx: AppContext,
  host: HostRow,
  adapter: HostAdapter,
): Promise<ProbeIdentity | { unverifiable: string }> {
  if (host.probeIdentity === "none") return { unverifiable: "the host's probe identity is `none`" };
  const stored =
    host.probeUserEmail && host.probePasswordSealed
      ? {
          email: host.probeUserEmail,
          password: ctx.secrets.open(host.probePasswordSealed, SECRET_PURPOSE.probePassword),
        }
      : undefined;
  if (host.probeIdentity === "user") {
    if (!stored)
      return {
        unverifiable:
          "probe identity `user` has no probe user email and password; set them with `relay host add --probe-email`",
      };
    const user = await adapter.findUserByEmail(stored.email);
    if (!user) return { unverifiable: `probe user ${stored.email} does not exist on the host` };
    return { ...stored, userId: user.id, balance: user.balance };
  }
  const email = probeUserEmail(host.id, await probeUserGeneration(ctx, host.id));
  // An address of an earlier generation: its removal was begun and has not finished (the host's
  // answer was lost, the process stopped). Neither used nor replaced until it has.
  if (stored && stored.email.toLowerCase() !== email.toLowerCase())
    return {
      unverifiable: `the removal of relay's probe user ${stored.email} has not finished; run \`relay host remove-probe-user ${host.name} --yes\` again`,
    };
  if (stored) {
    const user = await adapter.findUserByEmail(stored.email);
    if (user) {
      if (user.id !== host.probeUserId)
        await saveIdentity(ctx, host.id, stored.email, stored.password, user.id);
      return { ...stored, userId: user.id, balance: user.balance };
    }
  }
  // auto: create (or re-create, if it was deleted by hand) the probe user. The password is saved
  // before the call, so a create whose answer is lost leaves a user whose password relay holds.
  const fresh = ctx.secrets.seal(randomBytes(24).toString("base64url"), SECRET_PURPOSE.probePassword);
  const password = ctx.secrets.open(
    await claimProbeIdentity(ctx, host.id, email, fresh),
    SECRET_PURPOSE.probePassword,
  );
  try {
    const user = await adapter.createUser({
      email,
      password,
      username: "relay-probe",
      notes: `${OWNER_TAG} install=${ctx.installId} probe user; not a real person`,
    });
    await saveIdentity(ctx, host.id, email, password, user.id);
    await appendEvent(ctx, {
      kind: "probe_user_created",
      message: `created relay's probe user ${email} (#${user.id}) to prove access`,
      hostId: host.id,
    });
    return { email, password, userId: user.id, balance: user.balance, created: true };
  } catch (err) {
    if (!isHostError(err) || err.status !== 409) throw err;
    // The address is relay's own for this host: a user there is relay's probe user whose password
    // was lost (an answer lost before the save, a restored database). Set it again, never give up.
    const user = await adapter.findUserByEmail(email);
    if (!user) throw err;
    await adapter.resetUserPassword(user.id, password);
    await saveIdentity(ctx, host.id, email, password, user.id);
    return { email, password, userId: user.id, balance: user.balance };
  }
}

async function saveIdentity(
  ctx: AppContext,
  hostId: string,
  email: string,
  password: string,
  userId: number | null,
) {
  await saveProbeIdentity(ctx, hostId, {
    email,
    userId,
    passwordSealed: ctx.secrets.seal(password, SECRET_PURPOSE.probePassword),
  });
}
