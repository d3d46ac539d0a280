import { and, desc, eq } from "drizzle-orm";
import type { AccessState, GatewayEvidence, ProofEvidence } from "../domain/access.js";
import { nowIso, type StoreContext } from "./db.js";
import { accessClosureRecords, probeResults } from "./schema.js";
import { stmt } from "./statements.js";

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

/** One account test's evidence (a cached statement: it runs once per key). */
export function recordAccountTest(s: StoreContext, t: AccountTestRecord): void {
  stmt(
    s.db.$client,
    `INSERT INTO probe_results (host_id, provider_id, batch_id, kind, resource_id, success, error_code, message,
         model, latency_ms, detail, created_at) VALUES (?, ?, ?, 'account_test', ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    t.hostId,
    t.providerId,
    t.batchId,
    t.resourceId,
    t.ok ? 1 : 0,
    t.ok ? null : "ACCOUNT_TEST_FAILED",
    t.ok ? null : (t.error ?? null),
    t.model,
    t.latency,
    JSON.stringify({ account_id: t.accountId }),
    nowIso(s),
  );
}

/** managed_resources ids of a batch's accounts whose smoke test passed. */
export function passedAccountTests(s: StoreContext, batchId: string): Set<number> {
  return new Set(
    s.db
      .select({ resourceId: probeResults.resourceId })
      .from(probeResults)
      .where(
        and(
          eq(probeResults.batchId, batchId),
          eq(probeResults.kind, "account_test"),
          eq(probeResults.success, true),
        ),
      )
      .all()
      .flatMap((p) => (p.resourceId === null ? [] : [p.resourceId])),
  );
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

export type AccessRecordRow = typeof accessClosureRecords.$inferSelect;

/** The result of one access proof: the gateway call's evidence, if one was made, and the derived state. */
export function recordAccessProof(s: StoreContext, r: AccessRecordInput): string {
  const now = nowIso(s);
  s.db.transaction((tx) => {
    if (r.gateway) {
      tx.insert(probeResults)
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
        .run();
    }
    tx.insert(accessClosureRecords)
      .values({
        hostId: r.hostId,
        providerId: r.providerId,
        batchId: r.batchId,
        state: r.state,
        reason: r.reason,
        evidence: { ...r.evidence, gateway: r.gateway },
        createdAt: now,
      })
      .run();
  });
  return now;
}

export function lastAccessRecord(
  s: StoreContext,
  hostId: string,
  providerId: string,
): AccessRecordRow | undefined {
  return s.db
    .select()
    .from(accessClosureRecords)
    .where(and(eq(accessClosureRecords.hostId, hostId), eq(accessClosureRecords.providerId, providerId)))
    .orderBy(desc(accessClosureRecords.id))
    .limit(1)
    .get();
}
