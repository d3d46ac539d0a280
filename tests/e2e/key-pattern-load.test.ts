import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CHECKSUMS_FILE, renderChecksums } from "../../src/domain/pack/checksums.js";
import { projectRoot } from "../../src/util/paths.js";
import { writeZip } from "../fixtures/packs/zip-writer.js";
import { startBurners } from "../helpers/burners.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { makeTestEnv, TEST_API_TOKEN, type TestEnv } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";

const SHIPPED = join(projectRoot(), "packs", "openai-cn-pack");

let t: TestEnv | undefined;
let server: ChildProcess | undefined;
afterEach(async () => {
  server?.kill("SIGKILL");
  server = undefined;
  await t?.cleanup();
  t = undefined;
});

describe("key pattern checks on a busy machine", () => {
  it("lint --strict passes the shipped pack in 8 CLI processes at once, with two cores kept busy", async () => {
    t = await makeTestEnv();
    const env = t.env;
    const burners = startBurners(2);
    try {
      // The bound only stops a hung process; the verdict itself counts no time.
      const runs = await Promise.all(
        Array.from({ length: 8 }, () =>
          runRelay(["pack", "lint", SHIPPED, "--strict"], { env, timeoutMs: 240_000 }),
        ),
      );
      for (const r of runs) {
        expect(r.stdout + r.stderr).not.toMatch(/KEY_PATTERN_UNSAFE/);
        expect(r.stdout).toMatch(/OK: 0 error\(s\), 0 warning\(s\) \(strict\)/);
        expect(r.code).toBe(0);
      }
    } finally {
      await burners.stop();
    }
  }, 300_000);
});

/** 20 providers whose patterns each need more than the analysis budget. */
function slowPatternPack(): Buffer {
  const files = new Map<string, Buffer>();
  files.set(
    "pack.json",
    Buffer.from(
      JSON.stringify({
        schema_version: 1,
        pack_id: "slow-patterns",
        name: "slow patterns",
        version: "1.0.0",
        description: "hostile",
        host: { app: "sub2api", version_range: ">=0.1.0" },
      }),
    ),
  );
  files.set("README.md", Buffer.from("# slow patterns\n"));
  for (let i = 0; i < 20; i++) {
    const id = `slow-${String(i).padStart(2, "0")}`;
    files.set(
      `providers/${id}.json`,
      Buffer.from(
        JSON.stringify({
          provider_id: id,
          display_name: id,
          base_url: "https://api.example.com",
          platforms: { preferred: "deepseek", fallback: "openai" },
          api_protocol: "chat_completions",
          default_models: ["m"],
          smoke_test_model: "m",
          // Not a plain sequence (a quantified group), and the DFA of its reverse doubles with each
          // count: recheck runs out of budget on every one.
          key_pattern: `^([ab]){${8 + i}}a[ab]*$`,
          account_defaults: { concurrency: 2, priority: 50 },
          group_defaults: { subscription_type: "subscription", rate_multiplier: 1, is_exclusive: false },
        }),
      ),
    );
  }
  files.set(CHECKSUMS_FILE, Buffer.from(renderChecksums(files)));
  return writeZip([...files].map(([name, data]) => ({ name, data })));
}

describe("relay serve while a pack's key patterns are analysed", () => {
  it("answers /healthz while an install of 20 slow patterns is in flight", async () => {
    t = await makeTestEnv();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        ...t.env,
        RELAY_LISTEN: `127.0.0.1:${port}`,
        RELAY_LOG_LEVEL: "info",
        PATH: process.env.PATH ?? "",
      },
    });
    let logs = "";
    const analysing = new Promise<void>((resolve) => {
      server?.stderr?.on("data", (d) => {
        logs += d;
        if (/analysing key patterns/.test(logs)) resolve();
      });
    });
    const listening = new Promise<void>((resolve) => {
      server?.stderr?.on("data", () => {
        if (/listening/i.test(logs)) resolve();
      });
    });
    await listening;

    let installAnswered = false;
    const install = fetch(`${base}/api/packs/install`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/zip" },
      body: slowPatternPack(),
    }).then(
      (res) => {
        installAnswered = true;
        return res.status;
      },
      () => {
        installAnswered = true;
        return 0;
      },
    );
    // The server has read the pack and handed its patterns to the analysis: the install is in flight.
    await analysing;
    expect(logs).toMatch(/"patterns":4/);
    for (let i = 0; i < 3; i++) {
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(installAnswered).toBe(false);
    }
    server.kill("SIGKILL");
    await install;
  }, 60_000);
});
