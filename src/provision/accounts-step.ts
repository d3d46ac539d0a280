import { idempotencyKey, logicalKey } from "../domain/naming.js";
import type { CreateAccountInput, HostAccount } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import { setItem } from "../store/batches.js";
import { nowIso } from "../store/db.js";
import { type Intent, type ResourceRow, recordIntents, updateResource } from "../store/resources.js";
import { stmt } from "../store/statements.js";
import { chunk, mapLimit } from "../util/concurrency.js";
import type { IntakeKey } from "./keys.js";
import { adopt, describe, intent, itemStatus, type SagaContext, StepFailed, step } from "./saga.js";

/**
 * Steps 4 and 5 of the import saga: create the accounts (batch create in chunks where the host
 * has it, one by one otherwise), test each with the smoke model and read its models; in partial
 * mode, remove the accounts that fail their test.
 */
export async function provisionAccounts(s: SagaContext, groupId: number): Promise<void> {
  const { ctx, req, options, progress, internals, planned, gen, batchId, tag, created, warnings } = s;
  const { host, def, mapping, adapter, caps } = internals;
  // 4. accounts
  const toCreate: { key: IntakeKey; row: ResourceRow }[] = [];
  const intents: (Intent & { key: IntakeKey })[] = [];
  for (const key of internals.keys) {
    const p = planned.get(key.position);
    if (!p) continue;
    const lk = logicalKey(gen, "account", key.hash);
    if (p.action === "reuse") {
      adopt(
        ctx,
        host.id,
        def.provider_id,
        batchId,
        "account",
        lk,
        p.account_name,
        p.host_resource_id as number,
        key.hash,
      );
      setItem(ctx, batchId, key.hash, { status: "reused", result: { account_id: p.host_resource_id } });
    } else if (p.action === "create") {
      const stale = internals.records.get(`account|${lk}`);
      if (stale && ["created", "reused"].includes(stale.state))
        updateResource(ctx, stale.id, { state: "gone" });
      intents.push({
        ...intent(host.id, def.provider_id, batchId, "account", lk, p.account_name),
        rawKeyHash: key.hash,
        idempotencyKey: idempotencyKey(host.id, "account.create", `${lk}:${batchId}`),
        key,
      });
    }
  }
  // All intents in one transaction, before any account is sent to the host.
  const recordedRows = recordIntents(ctx, intents);
  for (const i of intents) toCreate.push({ key: i.key, row: recordedRows.get(i.logicalKey) as ResourceRow });
  const input = (key: IntakeKey, name: string): CreateAccountInput => ({
    name,
    notes: tag,
    platform: mapping.platform,
    apiKey: key.secret,
    baseUrl: mapping.baseUrl,
    ...(mapping.apiProtocol ? { apiProtocol: mapping.apiProtocol } : {}),
    ...(mapping.accountMode ? { accountMode: mapping.accountMode } : {}),
    modelMapping: mapping.modelMapping,
    ...(Object.keys(mapping.extra).length > 0 ? { extra: mapping.extra } : {}),
    concurrency: def.account_defaults.concurrency,
    priority: def.account_defaults.priority,
    groupIds: [groupId as number],
  });
  const accountFailed = (key: IntakeKey, row: ResourceRow, code: string, message: string) => {
    updateResource(ctx, row.id, { state: "failed" });
    setItem(ctx, batchId, key.hash, { status: "failed", errorCode: code, errorMessage: message });
    progress({ phase: "accounts", message: `${key.mask}: ${message}` });
    if (req.mode === "strict") throw new StepFailed("account create", `${key.mask}: ${message}`);
  };
  const hostIds = new Map<number, number>();
  const accountCreated = (key: IntakeKey, row: ResourceRow, id: number) => {
    hostIds.set(row.id, id);
    updateResource(ctx, row.id, { hostResourceId: id, state: "created" });
    setItem(ctx, batchId, key.hash, { status: "created", result: { account_id: id } });
    created.account_ids.push(id);
  };
  let done = 0;
  const perAccount = async ({ key, row }: { key: IntakeKey; row: ResourceRow }) => {
    try {
      const a = await adapter.createAccount(input(key, row.name), row.idempotencyKey);
      accountCreated(key, row, a.id);
    } catch (err) {
      if (err instanceof StepFailed) throw err;
      if (
        isHostError(err) &&
        (err.kind === "network" || err.kind === "timeout" || (err.status ?? 0) >= 500)
      ) {
        throw new StepFailed("account create", describe(err));
      }
      accountFailed(key, row, isHostError(err) ? err.machineCode : "ERROR", describe(err));
    }
    done += 1;
    progress({ phase: "accounts", message: `created ${key.mask}`, done, total: toCreate.length });
  };
  if (caps.batch_create) {
    for (const part of chunk(toCreate, options.chunkSize ?? 50)) {
      const batchKey = idempotencyKey(host.id, "account.batch", part.map((p) => p.row.name).join(","));
      const result = await step("account create", () =>
        adapter.createAccountsBatch(
          part.map((p) => input(p.key, p.row.name)),
          batchKey,
        ),
      );
      let leftovers = part;
      if (!result.verified) {
        // Dec 2025 builds answer without creating anything: check by listing, create the rest one by one.
        const listed = new Map<string, HostAccount>();
        for (const a of await step("account verify", () =>
          adapter.listAccounts({ search: `${def.provider_id}-` }),
        ))
          listed.set(a.name, a);
        leftovers = [];
        for (const p of part) {
          const a = listed.get(p.row.name);
          if (a) accountCreated(p.key, p.row, a.id);
          else leftovers.push(p);
        }
        if (leftovers.length > 0)
          warnings.push("the host's batch create created nothing; accounts were created one by one");
        for (const p of leftovers) await perAccount(p);
        continue;
      }
      const byName = new Map(result.results.map((x) => [x.name, x]));
      ctx.db.$client.transaction(() => {
        for (const p of part) {
          const r = byName.get(p.row.name);
          if (r?.success && r.id !== undefined) accountCreated(p.key, p.row, r.id);
          else accountFailed(p.key, p.row, "ACCOUNT_CREATE_FAILED", r?.error ?? "no result from host");
          done += 1;
        }
      })();
      progress({
        phase: "accounts",
        message: `created ${done}/${toCreate.length}`,
        done,
        total: toCreate.length,
      });
    }
  } else {
    await mapLimit(toCreate, 4, perAccount);
  }

  // 5. test every new account with the smoke model, then read its models
  const fresh = toCreate.filter(({ row }) => hostIds.has(row.id));
  let tested = 0;
  const recordTest = (
    row: ResourceRow,
    id: number,
    ok: boolean,
    error: string | undefined,
    latency: number | null,
  ) =>
    stmt(
      ctx.db.$client,
      `INSERT INTO probe_results (host_id, provider_id, batch_id, kind, resource_id, success, error_code, message,
           model, latency_ms, detail, created_at) VALUES (?, ?, ?, 'account_test', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      host.id,
      def.provider_id,
      batchId,
      row.id,
      ok ? 1 : 0,
      ok ? null : "ACCOUNT_TEST_FAILED",
      ok ? null : (error ?? null),
      def.smoke_test_model,
      latency,
      JSON.stringify({ account_id: id }),
      nowIso(ctx),
    );
  // Test evidence is written in transactions of up to 32 keys: one commit per key would cost
  // more CPU than the calls themselves. A crash loses at most the unflushed results, and
  // recovery then treats those accounts as untested (it removes them).
  let evidence: (() => void)[] = [];
  const flushEvidence = () => {
    const pending = evidence;
    evidence = [];
    if (pending.length > 0)
      ctx.db.$client.transaction(() => {
        for (const write of pending) write();
      })();
  };
  const queueEvidence = (write: () => void) => {
    evidence.push(write);
    if (evidence.length >= 32) flushEvidence();
  };
  await mapLimit(fresh, options.testConcurrency ?? 4, async ({ key, row }) => {
    const id = hostIds.get(row.id) as number;
    let ok = false;
    let error: string | undefined;
    let latency: number | null = null;
    try {
      const t = await adapter.testAccount(id, def.smoke_test_model);
      ok = t.success;
      error = t.error;
      latency = t.latencyMs;
    } catch (err) {
      error = describe(err);
    }
    tested += 1;
    progress({
      phase: "test",
      message: `${key.mask}: ${ok ? "ok" : `failed (${error})`}`,
      done: tested,
      total: fresh.length,
    });
    if (!ok) {
      queueEvidence(() => {
        recordTest(row, id, false, error, latency);
        setItem(ctx, batchId, key.hash, {
          status: "failed",
          errorCode: "ACCOUNT_TEST_FAILED",
          errorMessage: error ?? "test failed",
        });
      });
      if (req.mode === "strict") {
        flushEvidence();
        throw new StepFailed("account test", `${key.mask}: ${error}`);
      }
      return;
    }
    let models: string[] = [];
    try {
      models = caps.models_sync ? await adapter.syncAccountModels(id) : await adapter.listAccountModels(id);
    } catch (err) {
      warnings.push(`models of ${key.mask} could not be read: ${describe(err)}`);
    }
    queueEvidence(() => {
      recordTest(row, id, true, undefined, latency);
      setItem(ctx, batchId, key.hash, { status: "tested", result: { models } });
    });
  }).finally(flushEvidence);

  // partial mode: accounts that failed their test are removed; only what works stays.
  const failedTests = fresh.filter(({ key }) => itemStatus(ctx, batchId, key.hash) === "failed");
  for (const { row } of failedTests) {
    const id = hostIds.get(row.id);
    if (id === undefined) continue;
    try {
      await adapter.deleteAccount(id);
      updateResource(ctx, row.id, { state: "deleted" });
      created.account_ids = created.account_ids.filter((x) => x !== id);
    } catch (err) {
      warnings.push(`failed account #${id} could not be removed: ${describe(err)}`);
    }
  }
}
