import pLimit from "p-limit";
import { idempotencyKey, logicalKey } from "../domain/naming.js";
import type { CreateAccountInput, HostAccount } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { setItem } from "../store/batches.js";
import { inTransaction, type StoreContext } from "../store/db.js";
import { recordAccountTest } from "../store/probes.js";
import { type Intent, type ResourceRow, recordIntents, updateResource } from "../store/resources.js";
import { chunk, mapLimit } from "../util/concurrency.js";
import type { IntakeKey } from "./keys.js";
import { adopt, describe, intent, type SagaContext, StepFailed, step } from "./saga.js";

interface Pending {
  key: IntakeKey;
  row: ResourceRow;
}

/**
 * Steps 4 and 5 of the import saga: create the accounts (batch create in chunks where the host
 * has it, one by one otherwise), test each with the smoke model and read its models; in partial
 * mode, remove the accounts that fail their test. Tests start as soon as their account exists, so
 * a chunk's tests run while the next chunk is created.
 */
export async function provisionAccounts(s: SagaContext, groupId: number): Promise<void> {
  const toCreate = await recordAccountIntents(s);
  const hostIds = new Map<number, number>();
  const tests = accountTests(s, hostIds);
  try {
    await createAccounts(s, toCreate, groupId, hostIds, tests);
  } catch (err) {
    // Let the tests already started end and keep their evidence before rollback looks.
    await tests.finish().catch(() => undefined);
    throw err;
  }
  const failed = await tests.finish();
  await removeFailed(s, failed, hostIds);
}

/** Reused keys are adopted; every new one is recorded as intended, all in one transaction. */
async function recordAccountIntents(s: SagaContext): Promise<Pending[]> {
  const { ctx, internals, planned, gen, batchId } = s;
  const intents: (Intent & { key: IntakeKey })[] = [];
  for (const key of internals.keys) {
    const p = planned.get(key.position);
    if (!p) continue;
    const lk = logicalKey(gen, "account", key.hash);
    if (p.action === "reuse") {
      await adopt(s, "account", lk, p.account_name, p.host_resource_id as number, key.hash);
      await setItem(ctx, batchId, key.hash, { status: "reused", result: { account_id: p.host_resource_id } });
    } else if (p.action === "create") {
      const stale = internals.records.get(`account|${lk}`);
      if (stale && ["created", "reused"].includes(stale.state))
        await updateResource(ctx, stale.id, { state: "gone" });
      intents.push({
        ...intent(s, "account", lk, p.account_name),
        rawKeyHash: key.hash,
        idempotencyKey: idempotencyKey(internals.host.id, "account.create", `${lk}:${batchId}`),
        key,
      });
    }
  }
  const rows = await recordIntents(ctx, intents);
  return intents.map((i) => ({ key: i.key, row: rows.get(i.logicalKey) as ResourceRow }));
}

function accountInput(s: SagaContext, key: IntakeKey, name: string, groupId: number): CreateAccountInput {
  const { def, mapping } = s.internals;
  return {
    name,
    notes: s.tag,
    platform: mapping.platform,
    apiKey: key.secret,
    baseUrl: mapping.baseUrl,
    ...(mapping.apiProtocol ? { apiProtocol: mapping.apiProtocol } : {}),
    ...(mapping.accountMode ? { accountMode: mapping.accountMode } : {}),
    modelMapping: mapping.modelMapping,
    ...(Object.keys(mapping.extra).length > 0 ? { extra: mapping.extra } : {}),
    concurrency: def.account_defaults.concurrency,
    priority: def.account_defaults.priority,
    groupIds: [groupId],
  };
}

/**
 * Creates the accounts, fills resource row id → host account id for those the host made and hands
 * each new account to the tests. Stops before the next call once a strict test has failed.
 */
async function createAccounts(
  s: SagaContext,
  toCreate: Pending[],
  groupId: number,
  hostIds: Map<number, number>,
  tests: AccountTests,
): Promise<void> {
  const { ctx, req, options, progress, internals, batchId, created } = s;
  const { adapter, caps, def } = internals;
  let done = 0;
  // `c`: the context to write with (inside a transaction, the transaction's).
  const succeeded = async (c: StoreContext, { key, row }: Pending, id: number) => {
    hostIds.set(row.id, id);
    await updateResource(c, row.id, { hostResourceId: id, state: "created" });
    await setItem(c, batchId, key.hash, { status: "created", result: { account_id: id } });
    created.account_ids.push(id);
  };
  const refused = async (c: StoreContext, { key, row }: Pending, code: string, message: string) => {
    await updateResource(c, row.id, { state: "failed" });
    await setItem(c, batchId, key.hash, { status: "failed", errorCode: code, errorMessage: message });
    progress({ phase: "accounts", message: `${key.mask}: ${message}` });
    if (req.mode === "strict") throw new StepFailed("account create", `${key.mask}: ${message}`);
  };
  const one = async (p: Pending) => {
    tests.throwIfFailed();
    try {
      await succeeded(
        ctx,
        p,
        (await adapter.createAccount(accountInput(s, p.key, p.row.name, groupId), p.row.idempotencyKey)).id,
      );
      tests.start([p]);
    } catch (err) {
      if (err instanceof StepFailed) throw err;
      // The host may have acted (or is still acting): stop and let rollback look for it by name
      // rather than call it refused.
      if (hostMayHaveActed(err)) throw new StepFailed("account create", describe(err));
      await refused(ctx, p, isHostError(err) ? err.machineCode : "ERROR", describe(err));
    }
    done += 1;
    progress({ phase: "accounts", message: `created ${p.key.mask}`, done, total: toCreate.length });
  };
  if (!caps.batch_create) {
    await mapLimit(toCreate, 4, one);
    return;
  }
  for (const part of chunk(toCreate, options.chunkSize ?? 50)) {
    tests.throwIfFailed();
    const result = await step("account create", () =>
      adapter.createAccountsBatch(
        part.map((p) => accountInput(s, p.key, p.row.name, groupId)),
        batchKey(s, groupId, part),
      ),
    );
    if (!result.verified) {
      // Dec 2025 builds answer without creating anything: check by listing, create the rest one by one.
      const listed = new Map<string, HostAccount>();
      for (const a of await step("account verify", () =>
        adapter.listAccounts({ search: `${def.provider_id}-` }),
      ))
        listed.set(a.name, a);
      const leftovers: Pending[] = [];
      for (const p of part) {
        const a = listed.get(p.row.name);
        if (a) await succeeded(ctx, p, a.id);
        else leftovers.push(p);
      }
      if (leftovers.length > 0)
        s.warnings.push("the host's batch create created nothing; accounts were created one by one");
      tests.start(part.filter((p) => hostIds.has(p.row.id)));
      for (const p of leftovers) await one(p);
      continue;
    }
    const byName = new Map(result.results.map((x) => [x.name, x]));
    await inTransaction(ctx, async (tx) => {
      for (const p of part) {
        const r = byName.get(p.row.name);
        if (r?.success && r.id !== undefined) await succeeded(tx, p, r.id);
        else await refused(tx, p, "ACCOUNT_CREATE_FAILED", r?.error ?? "no result from host");
        done += 1;
      }
    });
    tests.start(part.filter((p) => hostIds.has(p.row.id)));
    progress({
      phase: "accounts",
      message: `created ${done}/${toCreate.length}`,
      done,
      total: toCreate.length,
    });
  }
}

/** A network error, a timeout, a 5xx or an idempotency record still in flight: the host may have made it. */
function hostMayHaveActed(err: unknown): boolean {
  return (
    isHostError(err) &&
    (err.kind === "network" ||
      err.kind === "timeout" ||
      (err.status ?? 0) >= 500 ||
      err.is("IDEMPOTENCY_IN_PROGRESS") ||
      err.is("IDEMPOTENCY_RETRY_BACKOFF"))
  );
}

/**
 * The key covers everything that varies in the payload (batch, group, names and so keys): the same
 * chunk retried reuses it, a later batch with the same names never collides with it (sub2api
 * answers IDEMPOTENCY_KEY_CONFLICT for a key reused with another payload for 24 h).
 */
function batchKey(s: SagaContext, groupId: number, part: Pending[]): string {
  return idempotencyKey(
    s.internals.host.id,
    "account.batch",
    `${s.batchId}|${groupId}|${part.map((p) => p.row.name).join(",")}`,
  );
}

interface AccountTests {
  /** Queues tests for accounts the host has just made. */
  start(accounts: Pending[]): void;
  /** Throws the strict failure, once a test has failed in strict mode. */
  throwIfFailed(): void;
  /** Waits for every test started, writes the evidence; returns the accounts that failed. */
  finish(): Promise<Pending[]>;
}

/**
 * Tests new accounts with the smoke model, then reads their models, at most `testConcurrency`
 * (else the host's concurrency) at a time across all chunks. Evidence is written in transactions
 * of up to 32 keys: one commit per key would cost more CPU than the calls themselves. A crash loses
 * at most the unflushed results, and recovery then treats those accounts as untested (it removes
 * them). In strict mode the first failure skips the tests not yet begun.
 */
function accountTests(s: SagaContext, hostIds: Map<number, number>): AccountTests {
  const { ctx, req, options, progress, internals, batchId, warnings } = s;
  const { adapter, caps, def, host } = internals;
  const limit = pLimit(options.testConcurrency ?? ctx.config.hostConcurrency);
  const running: Promise<void>[] = [];
  const failed: Pending[] = [];
  let strictFailure: StepFailed | undefined;
  let evidence: ((tx: StoreContext) => Promise<void>)[] = [];
  const flush = async () => {
    const pending = evidence;
    evidence = [];
    if (pending.length > 0)
      await inTransaction(ctx, async (tx) => {
        for (const write of pending) await write(tx);
      });
  };
  const queue = async (write: (tx: StoreContext) => Promise<void>) => {
    evidence.push(write);
    if (evidence.length >= 32) await flush();
  };
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
  const run = async (p: Pending) => {
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
    tested += 1;
    const verdict = outcome.ok ? "ok" : `failed (${outcome.error})`;
    progress({ phase: "test", message: `${p.key.mask}: ${verdict}`, done: tested, total: started });
    if (!outcome.ok) {
      failed.push(p);
      await queue(async (tx) => {
        await recordAccountTest(tx, { ...test, resourceId: p.row.id, accountId: id, ...outcome });
        await setItem(tx, batchId, p.key.hash, {
          status: "failed",
          errorCode: "ACCOUNT_TEST_FAILED",
          errorMessage: outcome.error ?? "test failed",
        });
      });
      if (req.mode === "strict") {
        strictFailure ??= new StepFailed("account test", `${p.key.mask}: ${outcome.error}`);
      }
      return;
    }
    const served = await modelsOf(id, p.key.mask);
    await queue(async (tx) => {
      await recordAccountTest(tx, { ...test, resourceId: p.row.id, accountId: id, ...outcome });
      await setItem(tx, batchId, p.key.hash, { status: "tested", result: { models: served } });
    });
  };
  return {
    start(accounts) {
      if (strictFailure) return;
      started += accounts.length;
      for (const p of accounts) running.push(limit(() => run(p)));
    },
    throwIfFailed() {
      if (strictFailure) throw strictFailure;
    },
    async finish() {
      // Tests queued behind a strict failure return at once without calling the host.
      const settled = await Promise.allSettled(running);
      await flush();
      if (strictFailure) throw strictFailure;
      const broken = settled.find((r) => r.status === "rejected");
      if (broken) throw broken.reason;
      return failed;
    },
  };
}

/** Partial mode: accounts that failed their test are removed; only what works stays. */
async function removeFailed(s: SagaContext, failed: Pending[], hostIds: Map<number, number>): Promise<void> {
  for (const { row } of failed) {
    const id = hostIds.get(row.id);
    if (id === undefined) continue;
    try {
      await s.internals.adapter.deleteAccount(id);
      await updateResource(s.ctx, row.id, { state: "deleted" });
      s.created.account_ids = s.created.account_ids.filter((x) => x !== id);
    } catch (err) {
      s.warnings.push(`failed account #${id} could not be removed: ${describe(err)}`);
    }
  }
}
