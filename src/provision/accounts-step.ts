import { idempotencyKey, logicalKey } from "../domain/naming.js";
import type { CreateAccountInput, HostAccount } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { type ItemPatch, setItem, setItems } from "../store/batch-items.js";
import { inTransaction, type StoreContext } from "../store/db.js";
import {
  type Intent,
  type ResourceRow,
  recordIntents,
  updateResource,
  updateResources,
} from "../store/resources.js";
import { chunk, mapLimit } from "../util/concurrency.js";
import { type AccountTests, accountTests, type Pending } from "./account-tests.js";
import type { IntakeKey } from "./keys.js";
import { adopt, describe, intent, type SagaContext, StepFailed, step } from "./saga.js";
import { READY } from "./triage.js";

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
      await setItem(ctx, batchId, key.hash, {
        status: "reused",
        result: { account_id: p.host_resource_id, triage: READY },
      });
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
  // Each chunk's record is written while the next chunk is created: on a database a round trip
  // away, the writes no longer hold up the host calls. All are written before this returns or
  // throws (rollback reads them), and each account's test evidence waits for its own chunk's.
  const writes: Promise<void>[] = [];
  try {
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
      const settled = settleChunk(s, part, result.results, hostIds);
      writes.push(settled.written);
      done += part.length;
      tests.start(
        part.filter((p) => hostIds.has(p.row.id)),
        settled.written,
      );
      reportRefused(s, settled.refused);
      progress({
        phase: "accounts",
        message: `created ${done}/${toCreate.length}`,
        done,
        total: toCreate.length,
      });
    }
  } finally {
    await Promise.allSettled(writes);
  }
  await Promise.all(writes); // a write that failed fails the step
}

/**
 * Judges what the host answered for one batch-create chunk (host ids, refusals: known at once) and
 * starts recording it, in one transaction of two statements whatever the chunk's size: made
 * accounts `created` with their host id, refused ones `failed`.
 */
function settleChunk(
  s: SagaContext,
  part: Pending[],
  results: { name: string; success: boolean; id?: number | undefined; error?: string | undefined }[],
  hostIds: Map<number, number>,
): { refused: { p: Pending; message: string }[]; written: Promise<void> } {
  const byName = new Map(results.map((x) => [x.name, x]));
  const resources: { id: number; state: ResourceRow["state"]; hostResourceId?: number }[] = [];
  const items: ItemPatch[] = [];
  const refused: { p: Pending; message: string }[] = [];
  for (const p of part) {
    const r = byName.get(p.row.name);
    if (r?.success && r.id !== undefined) {
      hostIds.set(p.row.id, r.id);
      resources.push({ id: p.row.id, state: "created", hostResourceId: r.id });
      items.push({ hash: p.key.hash, status: "created", result: { account_id: r.id } });
      s.created.account_ids.push(r.id);
    } else {
      const message = r?.error ?? "no result from host";
      resources.push({ id: p.row.id, state: "failed" });
      items.push({
        hash: p.key.hash,
        status: "failed",
        errorCode: "ACCOUNT_CREATE_FAILED",
        errorMessage: message,
      });
      refused.push({ p, message });
    }
  }
  const written = inTransaction(s.ctx, async (tx) => {
    await updateResources(tx, resources);
    await setItems(tx, s.batchId, items);
  });
  // Awaited later (by the caller and by the tests' evidence); a failure must not go unhandled meanwhile.
  written.catch(() => undefined);
  return { refused, written };
}

/** A chunk's refused accounts, one progress line each; in strict mode the first stops the import. */
function reportRefused(s: SagaContext, refused: { p: Pending; message: string }[]): void {
  for (const { p, message } of refused)
    s.progress({ phase: "accounts", message: `${p.key.mask}: ${message}` });
  const first = refused[0];
  if (first && s.req.mode === "strict")
    throw new StepFailed("account create", `${first.p.key.mask}: ${first.message}`);
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
