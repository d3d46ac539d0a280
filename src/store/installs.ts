import { nextProviderState, type ProviderFacts, type ProviderState } from "../domain/status.js";
import { type Db, nowIso, type StoreContext, write } from "./db.js";
import { factsFromRow, providerFactsRows } from "./provider-facts.js";
import type { Row } from "./schema.js";

export type InstallRow = Row<"provider_installs">;

export function getInstall(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<InstallRow | undefined> {
  return s.db.q
    .selectFrom("provider_installs")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .executeTakeFirst();
}

export async function ensureInstall(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<InstallRow> {
  const existing = await getInstall(s, hostId, providerId);
  if (existing) return existing;
  const now = nowIso(s);
  const first = nextProviderState({ disabled: false, live: { groups: 0, accounts: 0 } });
  await write(s, (q) =>
    q
      .insertInto("provider_installs")
      .values({
        hostId,
        providerId,
        status: first.status,
        statusReason: first.reason,
        statusChangedAt: now,
        accessState: first.access,
        accessReason: first.accessReason,
        generation: 1,
        createdAt: now,
        updatedAt: now,
      })
      .execute(),
  );
  return (await getInstall(s, hostId, providerId)) as InstallRow;
}

export async function bumpGeneration(s: StoreContext, hostId: string, providerId: string): Promise<void> {
  const install = await ensureInstall(s, hostId, providerId);
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({ generation: install.generation + 1, updatedAt: nowIso(s) })
      .where("id", "=", install.id)
      .execute(),
  );
}

export async function markReconciled(s: StoreContext, hostId: string, providerId: string): Promise<void> {
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({ lastReconcileAt: nowIso(s) })
      .where("hostId", "=", hostId)
      .where("providerId", "=", providerId)
      .execute(),
  );
}

/** Every (host, provider) relay has a record of, with its status. */
export function listInstalls(s: StoreContext): Promise<InstallRow[]> {
  return s.db.q.selectFrom("provider_installs").selectAll().orderBy("id").execute();
}

/** Reads what the provider's status is decided from, in one statement (provider-facts.ts); nothing here decides. */
export async function providerFacts(s: StoreContext, install: InstallRow): Promise<ProviderFacts> {
  const [row] = await providerFactsRows(s, install.providerId, { installId: install.id });
  if (row === undefined) throw new Error(`install ${install.id} is not in the store`);
  return factsFromRow(install.providerId, row, install);
}

/**
 * The one writer of a provider's status and access state: recomputed from stored facts by the
 * domain's decision after every operation. The time of change moves only when the status does.
 */
export async function refreshProviderState(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<ProviderState> {
  const install = await ensureInstall(s, hostId, providerId);
  const next = nextProviderState(await providerFacts(s, install));
  const now = nowIso(s);
  await write(s, (q) =>
    q
      .updateTable("provider_installs")
      .set({
        status: next.status,
        statusReason: next.reason,
        accessState: next.access,
        accessReason: next.accessReason,
        updatedAt: now,
        ...(install.status !== next.status ? { statusChangedAt: now } : {}),
      })
      .where("id", "=", install.id)
      .execute(),
  );
  return next;
}

/** host name, provider, status of every install: the `relay_provider_status` gauge. */
export async function statusByHost(db: Db): Promise<{ host: string; provider: string; status: string }[]> {
  return db.q
    .selectFrom("provider_installs as p")
    .innerJoin("hosts as h", "h.id", "p.hostId")
    .select(["h.name as host", "p.providerId as provider", "p.status"])
    .execute();
}
