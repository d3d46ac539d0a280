/**
 * Live: a host with sub2api's URL allowlist on (`security.url_allowlist.enabled: true`). Run it
 * against such a host with RELAY_LIVE_HOST_SETTING=url_allowlist (besides the variables the live
 * suite reads). The upstream the pack names is not on the host's list, so every account test
 * would fail: relay must refuse the import before any host write, naming the host setting.
 *
 * "No write" is judged on the host itself: a group made by hand just before and just after the
 * refused import get consecutive ids (sub2api's ids come from a sequence that a soft-deleted or
 * rolled-back group still consumes), so no group — relay's first write — was made in between.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { FakeUpstreams, fakeProvidersFromPack } from "./fake-upstream.js";
import { admin, type LiveHost, madeSince, snapshot } from "./host-admin.js";
import { liveHostFromEnv } from "./live-env.js";
import { SHIPPED_PACK, writeLivePack } from "./live-pack.js";

const host = liveHostFromEnv();
const wanted = host && process.env.RELAY_LIVE_HOST_SETTING === "url_allowlist";
const LONG = 300_000;

describe.skipIf(!wanted)("live: a host with the URL allowlist on", () => {
  const live = host as LiveHost;
  let dir: string;
  let env: Record<string, string>;
  let ups: FakeUpstreams;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "relay-live-allowlist-"));
    env = {
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: Buffer.alloc(32, 11).toString("base64"),
      RELAY_ALLOW_LOOPBACK_UPSTREAMS: "1",
      RELAY_LOG_LEVEL: "warn",
    };
    ups = await FakeUpstreams.start(fakeProvidersFromPack(SHIPPED_PACK));
    writeLivePack(join(dir, "pack"), ups);
    writeFileSync(join(dir, "admin.key"), live.adminKey, { mode: 0o600 });
  }, LONG);

  afterAll(async () => {
    await ups?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const markerGroup = async (): Promise<number> => {
    const g = await admin<{ id: number }>(live, "POST", "/groups", {
      name: `live-marker-${Date.now().toString(36)}`,
      platform: "openai",
      rate_multiplier: 1,
    });
    await admin(live, "DELETE", `/groups/${g.id}`);
    return g.id;
  };

  it("refuses a DeepSeek import before any host write, naming the host setting", {
    timeout: LONG,
  }, async () => {
    const run = (args: string[]) => runRelay(["--json", ...args], { env, timeoutMs: LONG });
    const add = await run([
      "host",
      "add",
      "--name",
      "allowlist",
      "--base-url",
      live.baseUrl,
      "--admin-key-file",
      join(dir, "admin.key"),
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect((await run(["pack", "install", join(dir, "pack")])).code).toBe(0);
    const keys = join(dir, "deepseek.keys");
    writeFileSync(keys, "sk-AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH\nsk-IIIIJJJJKKKKLLLLMMMMNNNNPPPPQQQQ\n", {
      mode: 0o600,
    });

    const before = await snapshot(live);
    const first = await markerGroup();
    const imp = await run([
      "provider",
      "import",
      "deepseek",
      "--host",
      "allowlist",
      "--keys-file",
      keys,
      "--mode",
      "strict",
      "--yes",
    ]);
    const last = await markerGroup();
    expect(imp.code, `${imp.stdout}\n${imp.stderr}`).toBe(1);
    expect(`${imp.stdout}${imp.stderr}`).toContain("security.url_allowlist");
    expect(last, "a group was made (and removed) between the two markers").toBe(first + 1);
    expect(madeSince(before, await snapshot(live))).toEqual({});
    expect(ups.chatCalls("deepseek")).toHaveLength(0);
  });
});
