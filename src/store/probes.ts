import type { AccessState, GatewayEvidence, ProofEvidence } from "../domain/access.js";
import { inTransaction, nowIso, type StoreContext, write } from "./db.js";
import type { Row } from "./schema.js";

export interface AccountTestRecord {
  hostId: string;
  providerId: string;
  batchId: string;
  /** The managed_resources row of the account. */
  resourceId: number;
  accountId: number;
  model: string;
  ok: boolean;
  error?: string | undefined;
  latency: number | null;
}

/** One account test's evidence (it runs once per key). */
export function recordAccountTest(s: StoreContext, t: AccountTestRecord): Promise<void> {
  return recordAccountTests(s, [t]);
}

/** Many account tests' evidence in one statement (the import flushes them in groups). */
export async function recordAccountTests(s: StoreContext, tests: AccountTestRecord[]): Promise<void> {
  if (tests.length === 0) return;
  const now = nowIso(s);
  await write(s, (q) =>
    q
      .insertInto("probe_results")
      .values(
        tests.map((t) => ({
          hostId: t.hostId,
          providerId: t.providerId,
          batchId: t.batchId,
          kind: "account_test",
          resourceId: t.resourceId,
          success: t.ok,
          errorCode: t.ok ? null : "ACCOUNT_TEST_FAILED",
          message: t.ok ? null : (t.error ?? null),
          model: t.model,
          latencyMs: t.latency,
          detail: { account_id: t.accountId },
          createdAt: now,
        })),
      )
      .execute(),
  );
}

/** managed_resources ids of a batch's accounts whose smoke test passed. */
export async function passedAccountTests(s: StoreContext, batchId: string): Promise<Set<number>> {
  const rows = await s.db.q
    .selectFrom("probe_results")
    .select("resourceId")
    .where("batchId", "=", batchId)
    .where("kind", "=", "account_test")
    .where("success", "=", true)
    .execute();
  return new Set(rows.flatMap((p) => (p.resourceId === null ? [] : [p.resourceId])));
}

export type GatewayRecord = GatewayEvidence;

export interface AccessRecordInput {
  hostId: string;
  providerId: string;
  batchId: string | null;
  state: AccessState;
  reason: string;
  evidence: ProofEvidence;
  gateway: GatewayRecord | null;
}

export type AccessRecordRow = Row<"access_closure_records">;

/** The result of one access proof: the gateway call's evidence, if one was made, and the derived state. */
export async function recordAccessProof(s: StoreContext, r: AccessRecordInput): Promise<string> {
  const now = nowIso(s);
  await inTransaction(s, async ({ db: { q } }) => {
    if (r.gateway) {
      await q
        .insertInto("probe_results")
        .values({
          hostId: r.hostId,
          providerId: r.providerId,
          batchId: r.batchId,
          kind: "gateway",
          success: r.gateway.error_code === null,
          httpStatus: r.gateway.status,
          errorCode: r.gateway.error_code,
          message: r.reason,
          model: r.gateway.model,
          latencyMs: r.gateway.latency_ms,
          detail: {},
          createdAt: now,
        })
        .execute();
    }
    await q
      .insertInto("access_closure_records")
      .values({
        hostId: r.hostId,
        providerId: r.providerId,
        batchId: r.batchId,
        state: r.state,
        reason: r.reason,
        evidence: { ...r.evidence, gateway: r.gateway },
        createdAt: now,
      })
      .execute();
  });
  return now;
}

export function lastAccessRecord(
  s: StoreContext,
  hostId: string,
  providerId: string,
): Promise<AccessRecordRow | undefined> {
  return s.db.q
    .selectFrom("access_closure_records")
    .selectAll()
    .where("hostId", "=", hostId)
    .where("providerId", "=", providerId)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
}
