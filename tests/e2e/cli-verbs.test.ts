import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { importKeys } from "../../src/provision/import.js";
import { rollbackBatch } from "../../src/provision/rollback.js";
import { runRelay } from "../helpers/cli.js";
import { TEST_API_TOKEN } from "../helpers/context.js";
import { json } from "../helpers/json.js";
import { deepseekKey, liveCount, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

// #16 "missing verbs": no host remove, pack remove, provider list; one URL under two names.
describe("verbs", () => {
  it("host remove refuses while resources relay made are live; --force only forgets; nothing changes on the host", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const live = liveCount(w.sim, r.batch_id);
    const refused = await runRelay(["host", "remove", "sim", "--yes"], { env: w.t.env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/still live on sim/);
    const noYes = await runRelay(["host", "remove", "sim", "--force"], { env: w.t.env });
    expect(noYes.code).toBe(1);
    const forced = await runRelay(["--json", "host", "remove", "sim", "--force", "--yes"], { env: w.t.env });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ name: "sim", live_resources_forgotten: live });
    expect(liveCount(w.sim, r.batch_id)).toBe(live); // judged from the host: untouched
    const list = await runRelay(["--json", "host", "list"], { env: w.t.env });
    expect(JSON.parse(list.stdout).items).toEqual([]);
  });

  it("pack remove refuses while a host has records of its providers, and removes it after the rollback", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const refused = await runRelay(["pack", "remove", "openai-cn-pack"], { env: w.t.env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/deepseek/);
    await rollbackBatch(w.t.ctx, r.batch_id);
    // A rolled-back provider still has its install record: forget the host, then the pack goes.
    await runRelay(["host", "remove", "sim", "--yes"], { env: w.t.env });
    const removed = await runRelay(["pack", "remove", "openai-cn-pack"], { env: w.t.env });
    expect(removed.code).toBe(0);
    expect((await runRelay(["pack", "list"], { env: w.t.env })).stdout).toMatch(/no packs installed/);
  });

  it("provider list shows every provider with its status per host (CLI and API)", async () => {
    w = await makeWorld();
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey()],
      mode: "strict",
    });
    const r = await runRelay(["provider", "list"], { env: w.t.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /deepseek\s+DeepSeek\s+openai-cn-pack\s+sim: health=healthy sync=unknown status=installed/,
    );
    expect(r.stdout).toMatch(/kimi\s+.*openai-cn-pack\s+-/);
    const app = createApp(w.t.ctx);
    const body = await json(
      app.request("/api/providers", { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } }),
    );
    expect(body.items.find((p: { provider_id: string }) => p.provider_id === "deepseek").hosts).toEqual([
      {
        host_name: "sim",
        status: "installed",
        access_state: "not_configured",
        health: "healthy",
        sync: "unknown",
        host_reachable: "yes",
      },
    ]);
  });

  it("the same URL registered twice under two names is warned about", async () => {
    w = await makeWorld();
    const keyFile = join(w.t.dir, "admin.key");
    writeFileSync(keyFile, `${w.sim.sim.state.adminApiKey}\n`, { mode: 0o600 });
    const r = await runRelay(
      ["host", "add", "--name", "twin", "--base-url", w.sim.url, "--admin-key-file", keyFile],
      {
        env: w.t.env,
      },
    );
    expect(r.stdout).toMatch(/host "sim" is registered with the same URL/);
  });
});
