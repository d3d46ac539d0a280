import { afterEach, describe, expect, it } from "vitest";
import { modelFindings } from "../../src/domain/model-findings.js";
import { importKeys } from "../../src/provision/import.js";
import { reconcileProvider } from "../../src/reconcile/runner.js";
import { countingHostCalls } from "../helpers/context.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

const DEEPSEEK = "https://api.deepseek.com";
const modelKinds = (findings: { kind: string; name: string }[]) =>
  findings
    .filter((f) => ["smoke_model_missing", "model_retired", "model_added"].includes(f.kind))
    .map((f) => `${f.kind} ${f.name}`);

/**
 * Issue #27 item 2: reconcile compares what the upstream lists, read through the host from one of
 * the provider's accounts, with the pack.
 */
describe("reconcile reads the upstream's catalogue through the host", () => {
  it("reports smoke_model_missing when the upstream stops listing the smoke model, and the rest", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    expect(r.status).toBe("succeeded");
    const run = () =>
      reconcileProvider(w.t.ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "manual" });
    // The upstream lists what the pack names: nothing to report.
    const before = await run();
    expect(modelKinds(before.findings)).toEqual([]);
    const calls = w.sim.sim.upstream.calls;
    // DeepSeek retires deepseek-flash (the smoke model) and v4-pro, and starts serving a new model.
    w.sim.sim.upstream.setModels(DEEPSEEK, ["DeepSeek-V5", "deepseek-v4-flash"]);
    const after = await run();
    expect(modelKinds(after.findings)).toEqual([
      "smoke_model_missing deepseek-flash",
      "model_retired deepseek-v4-pro",
      "model_added DeepSeek-V5",
    ]);
    const smoke = after.findings.find((f) => f.kind === "smoke_model_missing");
    expect(smoke?.next_step).toMatch(/smoke_test_model/);
    expect(after.new_status).toBe("degraded");
    // Read through the host's account sync (no direct provider call from relay): the host called
    // its upstream, and relay holds no key to call it with anyway.
    expect(w.sim.sim.upstream.calls).toBeGreaterThan(calls);
  });
});

describe("reconcile asks one account when the host refuses the listing for the provider", () => {
  it("stops at a 400 (every account shares the platform and base URL) instead of asking three", async () => {
    w = await makeWorld();
    const r = await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys: [deepseekKey(), deepseekKey(), deepseekKey()],
      mode: "strict",
    });
    expect(r.status).toBe("succeeded");
    // An upstream the host cannot list from: the host answers 400 for each of the accounts.
    for (const a of w.sim.sim.state.accounts.values())
      a.credentials = { ...a.credentials, base_url: "https://api.unlisted.example/v1" };
    const ops: string[] = [];
    const base = w.t.ctx;
    const ctx = countingHostCalls(base, ops);
    await reconcileProvider(ctx, { hostRef: "sim", providerId: "deepseek" }, { trigger: "manual" });
    expect(ops.filter((o) => o === "accounts.models_sync")).toHaveLength(1);
  });
});

describe("modelFindings (pure)", () => {
  const def = {
    provider_id: "acme",
    default_models: ["Model-A", "model-b"],
    smoke_test_model: "Model-A",
    model_lifecycle: { "model-b": { replacement: "Model-A" }, "model-old": { retired_at: "2026-01-01" } },
  } as never;
  const mapping = { "Model-A": "Model-A", "model-b": "model-b", alias: "Model-A" };
  const via = { name: "acc", id: 7 };

  it("matches names case-insensitively and leaves models the pack names (lifecycle too) alone", () => {
    expect(modelFindings(def, mapping, ["model-a", "MODEL-B", "model-old", "alias"], via)).toEqual([]);
  });

  it("names the replacement of a model that is gone", () => {
    const f = modelFindings(def, mapping, ["model-a", "model-c"], via);
    expect(f.map((x) => [x.kind, x.name, x.expected])).toEqual([
      ["model_retired", "model-b", "Model-A"],
      ["model_added", "model-c", undefined],
    ]);
  });
});
