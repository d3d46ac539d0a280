import { existsSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { isAppError } from "../../src/domain/errors.js";
import { importKeys } from "../../src/provision/import.js";
import { recoverBatches } from "../../src/provision/recover.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { previewRotation, rotateKeys } from "../../src/provision/rotate.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { getBatch, insertBatch, listBatches } from "../../src/store/batches.js";
import { type TableName, tables } from "../../src/store/schema.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { deepseekKey, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await w?.close();
});

/** Five accounts of one group, two of them with keys the upstream revoked, tested by a reconcile. */
async function fiveWithTwoRevoked(world: World) {
  const keys = [deepseekKey(), deepseekKey(), deepseekKey(), deepseekKey(), deepseekKey()];
  await importKeys(world.t.ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
  const revoked = keys.slice(0, 2);
  for (const k of revoked) world.sim.sim.upstream.revoke(k);
  await reconcileProvider(world.t.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "cli" });
  const byKey = (k: string) => {
    const a = liveOnHost(world.sim).accounts.find((x) => x.credentials.api_key === k);
    if (!a) throw new Error("account not found");
    return a;
  };
  return { keys, revoked, ids: revoked.map((k) => byKey(k).id), byKey };
}

const snapshot = (world: World) =>
  liveOnHost(world.sim)
    .accounts.map((a) => ({ id: a.id, name: a.name, groups: [...a.groupIds] }))
    .sort((a, b) => a.id - b.id);

describe("relay provider rotate (the verb, against the simulated host)", () => {
  it("rotates the revoked accounts in place: same ids and bindings, new keys, working and schedulable", async () => {
    w = await makeWorld();
    const { revoked, ids } = await fiveWithTwoRevoked(w);
    for (const id of ids) {
      const a = w.sim.sim.state.accounts.get(id);
      expect(a).toMatchObject({ status: "error", schedulable: false });
    }
    const before = snapshot(w);
    const subsBefore = liveOnHost(w.sim).subscriptions.length;
    const fresh = [deepseekKey(), deepseekKey()];
    const req = {
      hostRef: "sim",
      providerId: "deepseek",
      keys: fresh,
      oldKeys: revoked,
      accounts: "revoked" as const,
    };
    const plan = await previewRotation(w.t.ctx, req);
    expect(plan.blocked).toBe(false);
    expect(plan.accounts.map((a) => a.account_id)).toEqual([...ids].sort((a, b) => a - b));
    expect(plan.accounts.every((a) => a.paused_by === "host" && a.on_failure === "old_key_restored")).toBe(
      true,
    );
    expect(plan.new_keys.map((k) => k.class)).toEqual(["ready", "ready"]);
    expect(w.sim.sim.writes.filter((x) => x.startsWith("PUT"))).toEqual([]);

    const r = await rotateKeys(w.t.ctx, req);
    expect(r.status).toBe("succeeded");
    expect(r.summary).toEqual({ rotated: 2, restored: 0, failed: 0 });
    expect(await w.t.ctx.metrics.registry.metrics()).toContain('relay_rotations_total{outcome="rotated"} 2');
    // Judged on the host: the same accounts, the same bindings, the fresh keys, in service.
    expect(snapshot(w)).toEqual(before);
    expect(liveOnHost(w.sim).subscriptions.length).toBe(subsBefore);
    const onHost = ids.map((id) => w.sim.sim.state.accounts.get(id));
    expect(onHost.map((a) => a?.credentials.api_key).sort()).toEqual([...fresh].sort());
    for (const a of onHost) expect(a).toMatchObject({ status: "active", schedulable: true });
    expect(
      onHost.every((a) => typeof a?.credentials.base_url === "string" && a.credentials.model_mapping),
    ).toBe(true);
    // The ledger: a rotation batch, nothing to roll back; no key in the answer.
    const batch = await getBatch(w.t.ctx, r.batch_id);
    expect(batch).toMatchObject({ kind: "rotation", status: "succeeded" });
    expect(batch.keys.every((k) => k.status === "tested")).toBe(true);
    const text = JSON.stringify([plan, r, batch]);
    for (const k of [...fresh, ...revoked]) expect(text).not.toContain(k);
    await expect(rollbackBatch(w.t.ctx, r.batch_id)).rejects.toMatchObject({
      code: "ROTATION_NOT_ROLLED_BACK",
    });
    // A later import of a fresh key reuses its rotated account, it does not make a second one.
    const again = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [fresh[0] as string],
      mode: "strict",
    });
    expect(again.keys[0]?.status).toBe("reused");
    expect(snapshot(w)).toEqual(before);
  });

  it("a new key that fails its account test: the old key goes back, or without it the account is paused on the new key", async () => {
    w = await makeWorld();
    const { revoked, ids } = await fiveWithTwoRevoked(w);
    // Listing models works with it (ready at the pre-check), a chat call is refused (no balance).
    const broke = deepseekKey();
    w.sim.sim.upstream.emptyBalance.add(broke);
    const first = Math.min(...ids);
    const r = await rotateKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [broke],
      oldKeys: revoked,
      accounts: [first],
    });
    expect(r.summary).toEqual({ rotated: 0, restored: 1, failed: 0 });
    expect(await w.t.ctx.metrics.registry.metrics()).toContain('relay_rotations_total{outcome="restored"} 1');
    expect(r.status).toBe("partially_succeeded");
    const oldKey = revoked[ids.indexOf(first)];
    expect(w.sim.sim.state.accounts.get(first)?.credentials.api_key).toBe(oldKey);

    const other = Math.max(...ids);
    const broke2 = deepseekKey();
    w.sim.sim.upstream.emptyBalance.add(broke2);
    w.sim.sim.upstream.restore(revoked[ids.indexOf(other)] as string);
    // A person put it back; its key works again: now a failed rotation pauses it (relay's latch).
    (w.sim.sim.state.accounts.get(other) as { schedulable: boolean }).schedulable = true;
    const plan = await previewRotation(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [broke2],
      accounts: [other],
    });
    expect(plan.accounts[0]?.on_failure).toBe("left_paused_on_new_key");
    expect(plan.warnings.join(" ")).toMatch(/left on the new key and paused/);
    const r2 = await rotateKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [broke2],
      accounts: [other],
    });
    expect(r2.summary.failed).toBe(1);
    expect(w.sim.sim.state.accounts.get(other)).toMatchObject({ schedulable: false });
    expect(w.sim.sim.state.accounts.get(other)?.credentials.api_key).toBe(broke2);
  });

  it("refuses with fewer ready keys than accounts, and never a key already in use; nothing written", async () => {
    w = await makeWorld();
    const { keys } = await fiveWithTwoRevoked(w);
    const revokedNew = deepseekKey();
    w.sim.sim.upstream.revoke(revokedNew);
    const req = {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), revokedNew, keys[3] as string],
    };
    const plan = await previewRotation(w.t.ctx, req);
    expect(plan.blocked).toBe(true);
    expect(plan.blocked_reasons.join(" ")).toMatch(/2 account\(s\) chosen but only 1 ready new key/);
    expect(plan.new_keys.map((k) => k.use)).toEqual([
      expect.stringMatching(/^account #/),
      "not used: revoked",
      expect.stringMatching(/^not used: already the key of account #/),
    ]);
    // The pre-check is a POST that stores nothing on the host (sync-upstream-preview): not a write.
    const writes = () => w.sim.sim.writes.filter((x) => !x.endsWith("/models/sync-upstream-preview"));
    const before = writes().length;
    const err = await rotateKeys(w.t.ctx, req).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("ROTATION_BLOCKED");
    expect(writes().length).toBe(before);
    expect((await listBatches(w.t.ctx)).filter((b) => b.kind === "rotation")).toEqual([]);
  });

  it.each([
    ["PUT", "drop"],
    ["PUT", "503"],
    ["schedulable", "drop"],
    ["schedulable", "503"],
  ] as const)(
    "a %s whose answer is lost after the host acted (%s): the retry ends consistent, no key stored",
    async (route, mode) => {
      w = await makeWorld();
      const { revoked, ids } = await fiveWithTwoRevoked(w);
      proxy = await FaultProxy.start(w.sim.url);
      // relay reaches the host through the proxy from now on.
      await w.t.ctx.db.q.updateTable("hosts").set({ baseUrl: proxy.url }).where("name", "=", "sim").execute();
      const match =
        route === "PUT"
          ? /^PUT \/api\/v1\/admin\/accounts\/\d+$/
          : /^POST \/api\/v1\/admin\/accounts\/\d+\/schedulable$/;
      proxy.arm({ match, mode });
      const fresh = [deepseekKey(), deepseekKey()];
      const r = await rotateKeys(w.t.ctx, {
        hostRef: "sim",
        providerId: "deepseek",
        keys: fresh,
        oldKeys: revoked,
      });
      expect(proxy.hits.length).toBe(1);
      await proxy.settle();
      expect(r.summary).toEqual({ rotated: 2, restored: 0, failed: 0 });
      // Judged on the host: both accounts on their new keys, in service; nothing else changed.
      const onHost = ids.map((id) => w.sim.sim.state.accounts.get(id));
      expect(onHost.map((a) => a?.credentials.api_key).sort()).toEqual([...fresh].sort());
      for (const a of onHost) expect(a).toMatchObject({ status: "active", schedulable: true });
      expect(liveOnHost(w.sim).accounts.length).toBe(5);
      expect(await recoverBatches(w.t.ctx)).toEqual([]);
      // No key anywhere in the store: every row of every table, and the SQLite files themselves.
      const rows: unknown[] = [];
      for (const table of Object.keys(tables) as TableName[])
        rows.push(await w.t.ctx.db.q.selectFrom(table).selectAll().execute());
      const stored = JSON.stringify(rows);
      expect(stored).toContain(r.batch_id);
      for (const k of [...fresh, ...revoked]) expect(stored).not.toContain(k);
      for (const f of [w.t.dbPath, `${w.t.dbPath}-wal`].filter((x) => existsSync(x))) {
        const bytes = readFileSync(f).toString("latin1");
        for (const k of [...fresh, ...revoked]) expect(bytes).not.toContain(k);
      }
    },
  );
  it("POST /api/providers/{id}/rotate: dry_run answers the plan, then the rotation; keys in the body, never in the answer", async () => {
    w = await makeWorld();
    const { revoked, ids } = await fiveWithTwoRevoked(w);
    const app = createApp(w.t.ctx);
    const post = (body: unknown) =>
      app.request("/api/providers/deepseek/rotate", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const fresh = [deepseekKey(), deepseekKey()];
    const body = { host_id: w.hostId, keys: fresh, old_keys: revoked, accounts: "revoked", max_parallel: 2 };
    const dry = await post({ ...body, dry_run: true });
    expect(dry.status).toBe(200);
    const plan = (await dry.json()) as {
      accounts: { account_id: number }[];
      fingerprint: string;
      max_parallel: number;
    };
    expect(plan.accounts.map((a) => a.account_id).sort()).toEqual([...(ids as number[])].sort());
    expect(plan.max_parallel).toBe(2);
    expect((await post({ ...body, bogus: 1 })).status).toBe(400);
    const res = await post({ ...body, expected_fingerprint: plan.fingerprint });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ status: "succeeded", summary: { rotated: 2 } });
    for (const k of [...fresh, ...revoked]) expect(text).not.toContain(k);
    const stale = await post({ ...body, expected_fingerprint: plan.fingerprint });
    expect(stale.status).toBe(409);
  });
  it("a rotation a crash left running: recovery deletes nothing, records a written key, names an uncertain one", async () => {
    w = await makeWorld();
    const { ids } = await fiveWithTwoRevoked(w);
    const [a1, a2] = [...ids].sort((x, y) => (x as number) - (y as number)) as [number, number];
    const fresh = [deepseekKey(), deepseekKey()];
    // The crash: the batch and its items recorded, the first key written (not yet tested), the
    // second write in flight — the process died before either answer was recorded.
    const hashes = fresh.map((k) => w.t.ctx.secrets.keyHash(k));
    await insertBatch(
      w.t.ctx,
      {
        id: "r_20261202_0000000001",
        kind: "rotation",
        hostId: w.hostId,
        providerId: "deepseek",
        packVersion: "1.2.0",
        mode: "partial",
        accessMode: null,
        planFingerprint: null,
        options: {},
        keyCount: 2,
        summary: {
          keys: 2,
          create: 0,
          reuse: 0,
          conflict: 0,
          skip: 0,
          duplicates: 0,
          ignored_lines: 0,
          malformed: 0,
        },
        startedAt: new Date().toISOString(),
      },
      [a1, a2].map((id, i) => ({
        position: i,
        hash: hashes[i] as string,
        mask: `sk-…000${i}`,
        status: i === 0 ? ("created" as const) : ("pending" as const),
        errorCode: null,
        errorMessage: null,
        accountName: undefined,
        extra: { account_id: id, phase: i === 0 ? "written" : "writing" },
      })),
    );
    const acct = w.sim.sim.state.accounts.get(a1);
    if (acct) acct.credentials = { ...acct.credentials, api_key: fresh[0] };
    const before = snapshot(w);
    const [out] = await recoverBatches(w.t.ctx);
    expect(out).toMatchObject({
      batch_id: "r_20261202_0000000001",
      action: "rotation_interrupted",
      status: "failed",
    });
    expect(out?.detail).toContain(`#${a1} holds the new key`);
    expect(out?.detail).toContain(`#${a2} may hold`);
    expect(snapshot(w)).toEqual(before);
    // The record follows the host: importing the written key reuses its account.
    const again = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [fresh[0] as string],
      mode: "strict",
    });
    expect(again.keys[0]).toMatchObject({ status: "reused", account_id: a1 });
  });
});
