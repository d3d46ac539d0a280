/**
 * Live: `--with-plan` against a real host whose payment module is on. The module is a runtime
 * setting of the host, not a config key: the suite turns it on by hand through the host's own
 * payment config route (`PUT /api/v1/admin/payment/config {enabled}`, `routes/payment.go`,
 * `handler/admin/payment_handler.go:492`@2bc139ab5; pointer fields, so nothing else changes) and
 * puts it back as it was afterwards. relay's probe sees plans only with the module on
 * (`caps.plans`: the plans route and the public `payment_enabled`).
 *
 * The import makes a plan for the provider's group; the plan is judged on the host (its group,
 * price and validity as the pack says), reconcile reads it clean, and rollback removes it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runRelay } from "../helpers/cli.js";
import type { FakeUpstreams } from "./fake-upstream.js";
import {
  admin,
  HostAnswerError,
  type HostSnapshot,
  type LiveHost,
  listAll,
  madeSince,
  snapshot,
  touched,
} from "./host-admin.js";
import { liveKey } from "./host-user.js";
import { liveHostFromEnv } from "./live-env.js";
import { SHIPPED_PACK } from "./live-pack.js";
import { closeStand, openStand } from "./stand.js";

const host = liveHostFromEnv();
const LONG = 300_000;

interface LivePlan {
  id: number;
  group_id: number;
  name: string;
  price: number;
  validity_days: number;
  for_sale?: boolean;
}

describe.skipIf(!host)("live: an import with --with-plan on a host whose payment module is on", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  /** The payment module's state before the suite turned it on; undefined: the build has none. */
  let wasEnabled: boolean | undefined;
  let version = "unknown";
  let batch: string | undefined;
  const offer = (
    JSON.parse(readFileSync(join(SHIPPED_PACK, "providers", "deepseek.json"), "utf8")) as {
      plan: { price: number; validity_days: number };
    }
  ).plan;

  const relay = (args: string[]): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, timeoutMs: LONG });

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "plan", 17));
    before = await snapshot(live);
    try {
      wasEnabled = (await admin<{ enabled: boolean }>(live, "GET", "/payment/config")).enabled;
    } catch (e) {
      if (!(e instanceof HostAnswerError && e.status === 404)) throw e;
    }
    if (wasEnabled === false) await admin(live, "PUT", "/payment/config", { enabled: true });
  }, LONG);

  afterAll(async () => {
    if (wasEnabled === false) await admin(live, "PUT", "/payment/config", { enabled: false });
    await closeStand({ dir, ups }, `${version}-plan`);
  });

  it("imports DeepSeek with its plan; the host holds the plan on the provider's group", {
    timeout: LONG,
  }, async (t) => {
    if (wasEnabled === undefined) return t.skip("this build has no payment module");
    const add = await relay([
      "host",
      "add",
      "--name",
      "live",
      "--base-url",
      live.baseUrl,
      "--admin-key-file",
      join(dir, "admin.key"),
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect((JSON.parse(add.stdout) as { capabilities?: { plans?: boolean } }).capabilities?.plans).toBe(true);
    expect((await relay(["pack", "install", join(dir, "pack")])).code).toBe(0);
    const show = JSON.parse((await relay(["host", "show", "live"])).stdout) as {
      version?: string;
      providers: { provider_id: string; status: string }[];
    };
    version = String(show.version ?? "unknown");
    if (show.providers.find((p) => p.provider_id === "deepseek")?.status === "unsupported")
      return t.skip("this build cannot serve DeepSeek");
    const keys = join(dir, "deepseek.keys");
    writeFileSync(keys, `${liveKey("deepseek")}\n`, { mode: 0o600 });
    const imp = await relay([
      ...["provider", "import", "deepseek", "--host", "live", "--keys-file", keys, "--mode", "strict"],
      ...["--access-mode", "subscription", "--with-plan", "--yes"],
    ]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = JSON.parse(imp.stdout) as {
      batch_id: string;
      status: string;
      created: { group_id: number | null; plan_id: number | null };
    };
    batch = result.batch_id;
    expect(result.status).toBe("succeeded");
    expect(result.created.plan_id).not.toBeNull();
    // Judged on the host: the plan is there, on the provider's group, as the pack offers it.
    const plans = await listAll<LivePlan>(live, "/payment/plans");
    const plan = plans.find((p) => p.id === result.created.plan_id);
    expect(plan, JSON.stringify(plans)).toMatchObject({
      group_id: result.created.group_id,
      price: offer.price,
      validity_days: offer.validity_days,
    });
    const clean = await relay(["provider", "reconcile", "deepseek", "--host", "live"]);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("rolls back; the plan is gone and the host holds everything relay did not make", {
    timeout: LONG,
  }, async () => {
    if (batch) {
      const rb = await relay(["batch", "rollback", batch, "--yes"]);
      expect(rb.code, `${rb.stdout}\n${rb.stderr}`).toBe(0);
    }
    const after = await snapshot(live);
    expect(madeSince(before, after)).toEqual({});
    expect(touched(before, after)).toEqual([]);
  });
});
