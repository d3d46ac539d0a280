import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { createContext } from "../../src/app/context.js";
import { createLogger } from "../../src/util/logger.js";
import { rowCount, TEST_API_TOKEN } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { deepseekKey, liveCount, liveOnHost, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

async function appWithLogCapture(world: World) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const ctx = await createContext({
    db: world.t.ctx.db,
    config: world.t.ctx.config,
    logger: createLogger("trace", sink),
  });
  const app = createApp(ctx);
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${TEST_API_TOKEN}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  return { call, lines };
}

describe("import over HTTP", () => {
  it("preview, import, list, show and roll back; no key in any response or log line", async () => {
    w = await makeWorld();
    const { call, lines } = await appWithLogCapture(w);
    const [a, bad] = [deepseekKey(), deepseekKey()];
    w.sim.sim.upstream.revoke(bad);
    const bodies: string[] = [];
    const body = {
      host_id: w.hostId,
      mode: "partial",
      keys: [a, bad],
      subscription_targets: [{ user_id: "1", validity_days: 30 }],
    };

    const preview = await call("POST", "/api/providers/deepseek/preview-import", body);
    const previewText = await preview.text();
    bodies.push(previewText);
    expect(preview.status).toBe(200);
    const plan = JSON.parse(previewText);
    expect(plan.summary).toMatchObject({ keys: 2, create: 4 });
    expect(liveCount(w.sim)).toBe(0);

    const imp = await call("POST", "/api/providers/deepseek/import?wait=true", {
      ...body,
      expected_fingerprint: plan.fingerprint,
    });
    const impText = await imp.text();
    bodies.push(impText);
    const result = JSON.parse(impText);
    expect(result).toMatchObject({
      status: "partially_succeeded",
      provider_status: "installed",
      access_closure_status: "not_verified",
    });
    expect(result.created.group_id).toEqual(expect.any(Number));
    expect(result.created.account_ids).toHaveLength(1);

    const list = await call("GET", `/api/providers/deepseek/import-batches?host_id=${w.hostId}`);
    bodies.push(await list.clone().text());
    expect((await json(list)).items[0].batch_id).toBe(result.batch_id);
    const show = await call("GET", `/api/import-batches/${result.batch_id}`);
    bodies.push(await show.clone().text());
    const batch = await json(show);
    expect(batch.keys.map((k: { status: string }) => k.status).sort()).toEqual(["failed", "tested"]);
    expect(batch.resources.map((r: { type: string }) => r.type)).toEqual(
      expect.arrayContaining(["group", "channel", "account", "subscription"]),
    );

    const rb = await call("POST", `/api/import-batches/${result.batch_id}/rollback`);
    bodies.push(await rb.clone().text());
    expect((await json(rb)).status).toBe("rolled_back");
    expect(liveCount(w.sim)).toBe(0);

    for (const key of [a, bad]) {
      for (const b of bodies) expect(b).not.toContain(key);
      for (const l of lines) expect(l).not.toContain(key);
    }
    // "no access log line per request; imports and rollbacks are not logged"
    const logged = lines.map((l) => JSON.parse(l));
    const requests = logged.filter((l) => l.msg === "request");
    expect(requests.map((r) => [r.method, r.path, r.status])).toContainEqual([
      "POST",
      "/api/providers/deepseek/import",
      200,
    ]);
    for (const r of requests) expect(r).toMatchObject({ req_id: expect.any(String), ms: expect.any(Number) });
    const events = logged.filter((l) => l.event).map((l) => [l.event, l.batch_id]);
    expect(events).toContainEqual(["import_finished", result.batch_id]);
    expect(events).toContainEqual(["rolled_back", result.batch_id]);
  });

  it("import was one synchronous request: now 202 with a Location to poll until the batch ends", async () => {
    w = await makeWorld({ faults: { latencyMs: 30 } });
    const { call } = await appWithLogCapture(w);
    const res = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted).toMatchObject({ batch_id: expect.stringMatching(/^b_/), status: "running" });
    expect(res.headers.get("location")).toBe(`/api/import-batches/${accepted.batch_id}`);
    expect(accepted.location).toBe(res.headers.get("location"));
    let batch = await json(call("GET", accepted.location));
    for (
      let i = 0;
      i < 200 && !["succeeded", "partially_succeeded", "rolled_back", "failed"].includes(batch.status);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
      batch = await json(call("GET", accepted.location));
    }
    expect(batch.status).toBe("succeeded");
    expect(liveCount(w.sim, accepted.batch_id)).toBeGreaterThan(0);
    // The import has ended once it gives its lease back (a round trip after the batch's last write).
    for (let i = 0; i < 400 && (await rowCount(w.t.ctx, "locks")) > 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    // Refusals come before the batch exists, as errors, with or without wait.
    const refused = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: ["not-a-key"],
    });
    expect(refused.status).toBe(400);
  });

  it("refuses a stale plan, a blocked plan and bad bodies without touching the host", async () => {
    w = await makeWorld();
    const { call } = await appWithLogCapture(w);
    const stale = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: [deepseekKey()],
      expected_fingerprint: "0".repeat(64),
    });
    expect(stale.status).toBe(409);
    expect((await json(stale)).error.code).toBe("PLAN_STALE");
    const none = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: ["# only a comment"],
    });
    expect(none.status).toBe(400);
    expect((await json(none)).error.code).toBe("NO_KEYS");
    const blocked = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: ["not-a-key"],
      mode: "strict",
    });
    // Every key malformed: bad input to fix, not a conflict to wait out.
    expect(blocked.status).toBe(400);
    expect((await json(blocked)).error.code).toBe("NO_USABLE_KEY");
    const unknown = await call("POST", "/api/providers/nope/import", {
      host_id: w.hostId,
      keys: [deepseekKey()],
    });
    expect(unknown.status).toBe(404);
    const badBody = await call("POST", "/api/providers/deepseek/import", {
      host_id: w.hostId,
      keys: "sk-x",
      mode: "yolo",
    });
    expect(badBody.status).toBe(400);
    expect((await json(badBody)).error.details.map((d: { pointer: string }) => d.pointer)).toEqual(
      expect.arrayContaining(["/keys", "/mode"]),
    );
    expect(liveCount(w.sim)).toBe(0);
    expect(await rowCount(w.t.ctx, "import_batches")).toBe(0);
  });
});

describe("rollback over HTTP", () => {
  it("{dry_run: true} rolled the batch back for real: now it answers what would go and the host keeps it all", async () => {
    w = await makeWorld();
    const { call } = await appWithLogCapture(w);
    const result = await json(
      call("POST", "/api/providers/deepseek/import?wait=true", {
        host_id: w.hostId,
        keys: [deepseekKey()],
        mode: "strict",
      }),
    );
    expect(result.status).toBe("succeeded");
    const before = JSON.stringify(liveOnHost(w.sim, result.batch_id));
    const writes = w.sim.sim.writes.length;

    const dry = await call("POST", `/api/import-batches/${result.batch_id}/rollback`, { dry_run: true });
    expect(dry.status).toBe(200);
    const answer = await json(dry);
    expect(answer.batch_id).toBe(result.batch_id);
    expect(answer.would_delete.map((r: { type: string }) => r.type)).toEqual(["account", "channel", "group"]);
    // Judged on the host: the same live resources, and not one write reached it.
    expect(JSON.stringify(liveOnHost(w.sim, result.batch_id))).toBe(before);
    expect(liveCount(w.sim, result.batch_id)).toBe(3);
    expect(w.sim.sim.writes.slice(writes)).toEqual([]);
    expect((await json(call("GET", `/api/import-batches/${result.batch_id}`))).status).toBe("succeeded");

    const real = await call("POST", `/api/import-batches/${result.batch_id}/rollback`, { dry_run: false });
    expect((await json(real)).status).toBe("rolled_back");
    expect(liveCount(w.sim, result.batch_id)).toBe(0);
  });
});

describe("access over HTTP", () => {
  it("preview, assign-subscriptions and status (cached and probed)", async () => {
    w = await makeWorld();
    const { call } = await appWithLogCapture(w);
    const user = w.sim.sim.state.addUser({ email: "zhang@example.com", password: "zhang-password" });
    await call("POST", "/api/providers/deepseek/import?wait=1", { host_id: w.hostId, keys: [deepseekKey()] });
    const never = await call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}`);
    expect(never.status).toBe(404);
    const preview = await json(
      call("POST", "/api/providers/deepseek/access/preview", {
        host_id: w.hostId,
        users: [{ user_id: user.id }],
      }),
    );
    expect(preview.assign[0]).toMatchObject({ user_id: user.id, action: "create" });
    expect(preview.probe.steps.at(-1)).toMatch(/chat\/completions with deepseek-flash/);
    const assigned = await json(
      call("POST", "/api/providers/deepseek/access/assign-subscriptions", {
        host_id: w.hostId,
        users: [{ user_id: String(user.id), duration_days: 14 }], // the former name of validity_days, still accepted
      }),
    );
    expect(assigned.items[0]).toMatchObject({ action: "created", validity_days: 14 });
    const probed = await json(
      call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}&probe=true`),
    );
    expect(probed).toMatchObject({ access_state: "subscription_ready", provider_status: "active" });
    const cached = await json(call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}`));
    expect(cached.access_state).toBe("subscription_ready");
    expect(cached.host_name).toBe("sim");
    // "?probe=1 is treated as false": 1/0 are booleans too; anything else is refused.
    const one = await json(call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}&probe=1`));
    expect(one.checked_at > cached.checked_at).toBe(true);
    const yes = await call("GET", `/api/providers/deepseek/access/status?host_id=${w.hostId}&probe=yes`);
    expect(yes.status).toBe(400);
    expect((await json(yes)).error.code).toBe("INVALID_QUERY");
    expect((await call("GET", "/api/providers/deepseek/access/status")).status).toBe(400);
  });
});
