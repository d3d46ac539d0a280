/**
 * Live: `relay provider migrate` against the real host.
 *
 * A strict DeepSeek import with a subscribed user under the shipped pack (1.2.0, whose accounts map
 * deepseek-v4-pro to itself); then a later copy of the pack (1.3.0, tests/helpers/migration.ts)
 * retires deepseek-v4-pro with deepseek-flash as its replacement, and the fake upstream serves only
 * the new name. Judged from the host: the user's call with the old name fails before
 * `relay provider migrate deepseek --yes` and is served after it (the upstream receives the new
 * name); `relay batch rollback` of the migration puts back the mappings read from the host before
 * it exactly; rollback of the import leaves nothing relay made live and nothing else touched.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKSUMS_FILE, renderChecksums } from "../../src/domain/pack/checksums.js";
import { loadPackDir } from "../../src/packs/archive.js";
import { type CliResult, runRelay } from "../helpers/cli.js";
import { NEW, OLD, writeUpgradedPack } from "../helpers/migration.js";
import type { FakeUpstreams } from "./fake-upstream.js";
import {
  HostAnswerError,
  type HostSnapshot,
  type LiveHost,
  listAll,
  madeSince,
  snapshot,
  touched,
} from "./host-admin.js";
import { type LiveUser, liveKey, makeUser, userClient } from "./host-user.js";
import { liveHostFromEnv } from "./live-env.js";
import { closeStand, openStand } from "./stand.js";

const host = liveHostFromEnv();
const LONG = 300_000;

/** The later pack (tests/helpers/migration.ts) with its base URLs naming the fake upstreams. */
function writeUpgradedLivePack(dir: string, ups: FakeUpstreams): void {
  writeUpgradedPack(dir);
  for (const f of readdirSync(join(dir, "providers"))) {
    const path = join(dir, "providers", f);
    const p = JSON.parse(readFileSync(path, "utf8")) as { provider_id: string; base_url: string };
    p.base_url = ups.baseUrl(p.provider_id);
    writeFileSync(path, `${JSON.stringify(p, null, 2)}\n`);
  }
  const { files } = loadPackDir(dir);
  files.delete(CHECKSUMS_FILE);
  writeFileSync(join(dir, CHECKSUMS_FILE), renderChecksums(files));
}

interface LiveAccount {
  id: number;
  credentials?: { base_url?: string; model_mapping?: Record<string, string> };
}
/** A channel's price entry as the host lists it, less its row id. */
interface PriceEntry {
  platform?: string | undefined;
  models?: string[] | undefined;
  input_price?: unknown;
  output_price?: unknown;
}

interface LiveChannel {
  id: number;
  group_ids?: number[] | null;
  model_mapping?: unknown;
  /** Each entry carries the host's own row id, which a PUT of model_pricing replaces. */
  model_pricing?: {
    id?: number;
    platform?: string;
    models?: string[];
    input_price?: unknown;
    output_price?: unknown;
  }[];
}

describe.skipIf(!host)("live: a renamed model migrated on the host, and rolled back", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;
  let before: HostSnapshot;
  let user: LiveUser;
  let client: OpenAI | undefined;
  let served = false;
  let version = "unknown";
  let batch: string | undefined;
  let migration: string | undefined;
  let groupId: number | undefined;
  let premigration: Awaited<ReturnType<typeof mappings>> | undefined;
  const key = liveKey("deepseek");

  const relay = (args: string[]): Promise<CliResult> =>
    runRelay(["--json", ...args], { env, timeoutMs: LONG });

  /** The mappings of relay's DeepSeek accounts and of the channels bound to its group, as the host lists them. */
  const mappings = async () => {
    const accounts = (await listAll<LiveAccount>(live, "/accounts"))
      .filter((a) => a.credentials?.base_url === ups.baseUrl("deepseek"))
      .map((a) => ({ id: a.id, model_mapping: a.credentials?.model_mapping }));
    let channels: { id: number; model_mapping: unknown; model_pricing: PriceEntry[] }[] = [];
    try {
      channels = (await listAll<LiveChannel>(live, "/channels"))
        .filter((c) => (c.group_ids ?? []).includes(groupId as number))
        .map((c) => ({
          id: c.id,
          model_mapping: c.model_mapping,
          model_pricing: (c.model_pricing ?? []).map((p) => ({
            platform: p.platform,
            models: p.models,
            input_price: p.input_price,
            output_price: p.output_price,
          })),
        }));
    } catch (e) {
      if (!(e instanceof HostAnswerError && e.status === 404)) throw e;
    }
    return { accounts, channels };
  };

  /**
   * The user's call with `model`: its answer, or the host's refusal. `untilServed` repeats a refused
   * call once a second (at most 10 times): the gateway schedules from a snapshot its outbox worker
   * refreshes once a second (`service/scheduler_snapshot_service.go:181-188`,
   * `gateway.scheduling.outbox_poll_interval_seconds` default 1, `config/config.go:2466`@2bc139ab5),
   * so an account's new mapping reaches the gateway at the next refresh, not at the admin answer.
   */
  const call = async (model: string, untilServed = false) => {
    const refusals: string[] = [];
    for (let attempt = 0; attempt < (untilServed ? 10 : 1); attempt++) {
      const answer = await (client as OpenAI).chat.completions
        .create({ model, messages: [{ role: "user", content: "Say hello." }] })
        .then(
          (a) => a.choices[0]?.message.content ?? "",
          (e: unknown) => {
            refusals.push(String(e));
            return undefined;
          },
        );
      if (answer !== undefined) return { answer, refusals };
      if (untilServed) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return { answer: undefined, refusals };
  };

  beforeAll(async () => {
    ({ dir, env, ups } = await openStand(live, "migrate", 23));
    before = await snapshot(live);
    user = await makeUser(live, "migrate");
  }, LONG);

  afterAll(async () => {
    await closeStand({ dir, ups }, `${version}-migrate`);
  });

  it("imports one DeepSeek key under the shipped pack; the user's call with the old name is served", {
    timeout: LONG,
  }, async (t) => {
    const add = await relay([
      ...["host", "add", "--name", "live", "--base-url", live.baseUrl],
      ...["--admin-key-file", join(dir, "admin.key")],
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect((await relay(["pack", "install", join(dir, "pack")])).code).toBe(0);
    const show = JSON.parse((await relay(["host", "show", "live"])).stdout) as {
      version?: string;
      providers: { provider_id: string; status: string }[];
    };
    version = String(show.version ?? "unknown");
    served = show.providers.find((p) => p.provider_id === "deepseek")?.status !== "unsupported";
    if (!served) return t.skip("this build cannot serve DeepSeek (the operator flow checks the refusal)");
    const keys = join(dir, "deepseek.keys");
    writeFileSync(keys, `${key}\n`, { mode: 0o600 });
    const imp = await relay([
      ...["provider", "import", "deepseek", "--host", "live", "--keys-file", keys, "--mode", "strict"],
      ...["--access-mode", "subscription", "--subscribe", `${user.id}:30`, "--yes"],
    ]);
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(0);
    const result = JSON.parse(imp.stdout) as { batch_id: string; status: string };
    batch = result.batch_id;
    expect(result.status).toBe("succeeded");
    const subs = await listAll<{ user_id: number; group_id: number }>(live, "/subscriptions");
    groupId = subs.find((s) => s.user_id === user.id)?.group_id as number;
    expect(groupId).toBeDefined();
    client = await userClient(live, user, groupId);
    const old = await call(OLD);
    expect(old.answer, old.refusals.join("\n")).toMatch(/live fake upstream/);
  });

  it("a later pack renames the model and the upstream serves only the new name: the old name fails", {
    timeout: LONG,
  }, async (t) => {
    if (!served || !client) return t.skip("no DeepSeek batch on this build");
    const upgraded = join(dir, "pack-1.3.0");
    writeUpgradedLivePack(upgraded, ups);
    const install = await relay(["pack", "install", upgraded]);
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(install.stdout).toMatch(/MODELS_RENAMED/);
    const models = ups.running.get("deepseek")?.provider.models as string[];
    models.splice(0, models.length, ...models.filter((m) => m !== OLD));
    expect(models).toContain(NEW);
    const old = await call(OLD);
    expect(old.answer).toBeUndefined();
    process.stderr.write(`live migrate: before the migration the old name is refused: ${old.refusals[0]}\n`);
    premigration = await mappings();
    expect(premigration.accounts).toHaveLength(1);
    expect(premigration.accounts[0]?.model_mapping?.[OLD]).toBe(OLD);
  });

  it("relay provider migrate --yes: the old name is served, the upstream receives the new one", {
    timeout: LONG,
  }, async (t) => {
    if (!premigration) return t.skip("no DeepSeek batch on this build");
    const run = await relay(["provider", "migrate", "deepseek", "--host", "live", "--yes"]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const result = JSON.parse(run.stdout) as { batch_id: string; status: string };
    migration = result.batch_id;
    expect(result.status).toBe("succeeded");
    const now = await mappings();
    expect(now.accounts[0]?.model_mapping?.[OLD]).toBe(NEW);
    // The channel repriced as the later pack says: the old name priced with the model serving it.
    for (const c of now.channels)
      expect(c.model_pricing.find((p) => p.models?.includes(NEW))?.models, JSON.stringify(c)).toContain(OLD);
    process.stderr.write(`live migrate: mappings after: ${JSON.stringify(now)}\n`);
    const from = ups.chatCalls("deepseek").length;
    const old = await call(OLD, true);
    expect(old.answer, old.refusals.join("\n")).toMatch(/live fake upstream/);
    process.stderr.write(
      `live migrate: the old name was served after ${old.refusals.length} refusal(s); upstream saw ${ups
        .chatCalls("deepseek")
        .slice(from)
        .map((r) => r.model)
        .join(", ")}\n`,
    );
    expect(ups.chatCalls("deepseek").slice(from).at(-1)?.model).toBe(NEW);
    // Reconcile expects what the migration set: the mappings, and the channel repriced for the later
    // pack (the old name priced as the model that now serves it). Nothing is reported.
    const rec = await relay(["provider", "reconcile", "deepseek", "--host", "live", "--retest", "none"]);
    const findings = (JSON.parse(rec.stdout).findings ?? []) as { field?: string; message: string }[];
    process.stderr.write(
      `live migrate: reconcile after the migration: exit ${rec.code}; ${findings.map((f) => f.message).join("; ")}\n`,
    );
    expect(findings, rec.stdout).toEqual([]);
    expect(rec.code, rec.stdout).toBe(0);
  });

  it("relay batch rollback of the migration puts back the mappings read from the host exactly", {
    timeout: LONG,
  }, async (t) => {
    if (!migration || !premigration) return t.skip("no migration on this build");
    const rb = await relay(["batch", "rollback", migration, "--yes"]);
    expect(rb.code, `${rb.stdout}\n${rb.stderr}`).toBe(0);
    expect(await mappings()).toEqual(premigration);
  });

  it("rolls the import back; the host holds nothing relay made and everything it did not", {
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
