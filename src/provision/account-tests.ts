import pLimit from "p-limit";
import type { AppContext } from "../app/context.js";
import type { ItemPatch } from "../store/batch-items.js";
import { setItems } from "../store/batch-items.js";
import { inTransaction } from "../store/db.js";
import { type AccountTestRecord, recordAccountTests } from "../store/probes.js";
import type { ResourceRow } from "../store/resources.js";
import type { IntakeKey } from "./keys.js";
import { describe, type SagaContext, StepFailed } from "./saga.js";
import { READY, testFailureTriage } from "./triage.js";

/** A key of the batch with its account's record (intended, then created). */
export interface Pending {
  key: IntakeKey;
  row: ResourceRow;
}

/**
 * Test evidence is written in groups of this many keys, two statements a group: one commit per key
 * would cost more than the calls themselves (CPU on SQLite, a round trip each on PostgreSQL).
 */
const EVIDENCE_PER_FLUSH = 32;

type Evidence = { test: AccountTestRecord; item: ItemPatch };

/**
 * The tests' evidence, written EVIDENCE_PER_FLUSH keys at a time in one transaction of two
 * statements; a full group is written in the background, so a test's slot goes to the next host
 * call. `finish` writes the rest and waits for every group (a failed write fails it).
 */
function evidenceWriter(ctx: AppContext, batchId: string) {
  let pending: Evidence[] = [];
  const flushing: Promise<void>[] = [];
  const flush = async () => {
    const group = pending;
    pending = [];
    if (group.length === 0) return;
    await inTransaction(ctx, async (tx) => {
      await recordAccountTests(
        tx,
        group.map((e) => e.test),
      );
      await setItems(
        tx,
        batchId,
        group.map((e) => e.item),
      );
    });
  };
  return {
    queue(e: Evidence): void {
      pending.push(e);
      if (pending.length < EVIDENCE_PER_FLUSH) return;
      const f = flush();
      f.catch(() => undefined); // awaited by finish()
      flushing.push(f);
    },
    async finish(): Promise<void> {
      await flush();
      await Promise.all(flushing);
    },
  };
}

export interface AccountTests {
  /**
   * Queues tests for accounts the host has just made; `recorded` settles once their creation is
   * written (their evidence is written after it, never before).
   */
  start(accounts: Pending[], recorded?: Promise<void>): void;
  /** Throws the strict failure, once a test has failed in strict mode. */
  throwIfFailed(): void;
  /** Waits for every test started, writes the evidence; returns the accounts that failed. */
  finish(): Promise<Pending[]>;
}

/**
 * Tests new accounts with the smoke model, then reads their models, at most `testConcurrency`
 * (else the host's concurrency) at a time across all chunks. Evidence is written in transactions
 * of up to EVIDENCE_PER_FLUSH keys. A crash loses
 * at most the unflushed results, and recovery then treats those accounts as untested (it removes
 * them). In strict mode the first failure skips the tests not yet begun.
 */
export function accountTests(s: SagaContext, hostIds: Map<number, number>): AccountTests {
  const { ctx, req, options, progress, internals, batchId, warnings } = s;
  const { adapter, caps, def, host } = internals;
  const limit = pLimit(options.testConcurrency ?? ctx.config.hostConcurrency);
  const running: Promise<void>[] = [];
  const failed: Pending[] = [];
  let strictFailure: StepFailed | undefined;
  const evidence = evidenceWriter(ctx, batchId);
  const queue = evidence.queue;
  const test = { hostId: host.id, providerId: def.provider_id, batchId, model: def.smoke_test_model };
  // Every account of a batch has the provider's base URL and model mapping, so they serve the same
  // models: read them once, from the first account that passes its test, not once per account.
  let models: Promise<string[]> | undefined;
  const modelsOf = (id: number, mask: string) => {
    models ??= (caps.models_sync ? adapter.syncAccountModels(id) : adapter.listAccountModels(id)).catch(
      (err) => {
        warnings.push(`the models of the batch could not be read (through ${mask}): ${describe(err)}`);
        return [];
      },
    );
    return models;
  };
  let started = 0;
  let tested = 0;
  const run = async (p: Pending, recorded: Promise<void> | undefined) => {
    if (strictFailure) return;
    const id = hostIds.get(p.row.id) as number;
    let outcome: { ok: boolean; error?: string | undefined; latency: number | null } = {
      ok: false,
      latency: null,
    };
    try {
      const t = await adapter.testAccount(id, def.smoke_test_model);
      outcome = { ok: t.success, error: t.error, latency: t.latencyMs };
    } catch (err) {
      outcome.error = describe(err);
    }
    // The class from the provider's own answer, in its words (the raw body stays in the probe row).
    const triage = outcome.ok ? READY : await testFailureTriage(ctx, internals, p.key.secret, outcome.error);
    // Counted once the account's creation is written: the count never runs ahead of the record.
    await recorded;
    tested += 1;
    const verdict = outcome.ok ? "ok" : `failed (${triage.class}: ${triage.reason})`;
    progress({ phase: "test", message: `${p.key.mask}: ${verdict}`, done: tested, total: started });
    if (!outcome.ok) {
      failed.push(p);
      queue({
        test: { ...test, resourceId: p.row.id, accountId: id, ...outcome },
        item: {
          hash: p.key.hash,
          status: "failed",
          errorCode: "ACCOUNT_TEST_FAILED",
          errorMessage: triage.reason,
          result: { triage },
        },
      });
      if (req.mode === "strict") {
        strictFailure ??= new StepFailed("account test", `${p.key.mask}: ${triage.reason}`);
      }
      return;
    }
    const served = await modelsOf(id, p.key.mask);
    queue({
      test: { ...test, resourceId: p.row.id, accountId: id, ...outcome },
      item: { hash: p.key.hash, status: "tested", result: { models: served, triage } },
    });
  };
  return {
    start(accounts, recorded) {
      if (strictFailure) return;
      started += accounts.length;
      for (const p of accounts) running.push(limit(() => run(p, recorded)));
    },
    throwIfFailed() {
      if (strictFailure) throw strictFailure;
    },
    async finish() {
      // Tests queued behind a strict failure return at once without calling the host.
      const settled = await Promise.allSettled(running);
      await evidence.finish();
      if (strictFailure) throw strictFailure;
      const broken = settled.find((r) => r.status === "rejected");
      if (broken) throw broken.reason;
      return failed;
    },
  };
}
