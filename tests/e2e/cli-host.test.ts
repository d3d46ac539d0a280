import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { makeTestEnv, rowCount, type TestEnv } from "../helpers/context.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";

let t: TestEnv;
const sims: Record<string, RunningSim> = {};

beforeAll(async () => {
  t = await makeTestEnv();
  for (const profile of ["cn-native", "openai-compat", "legacy"] as const)
    sims[profile] = await startSimulator({ profile });
  sims.locked = await startSimulator({ profile: "cn-native", complianceLocked: true });
});
afterAll(async () => {
  await Promise.all(Object.values(sims).map((s) => s.close()));
  await t.cleanup();
});

const env = () => ({ ...t.env, SIM_KEY: "" });
const keyFile = (s: RunningSim, name: string) => {
  const path = join(t.dir, `${name}.key`);
  writeFileSync(path, `${s.sim.state.adminApiKey}\n`, { mode: 0o600 });
  return path;
};

describe("relay host add --json", () => {
  it.each([
    ["cn-native", "0.1.179", { channels: true, plans: true, chat_completions: true }],
    ["openai-compat", "0.1.150", { channels: true, chat_completions: true }],
    ["legacy", "0.1.27", { chat_completions: false, channels: false, plans: false }],
  ])(
    "registers a %s host and prints its version, status and capabilities",
    async (profile, version, caps) => {
      const s = sims[profile] as RunningSim;
      const r = await runRelay(
        [
          "--json",
          "host",
          "add",
          "--name",
          profile,
          "--base-url",
          s.url,
          "--admin-key-file",
          keyFile(s, profile),
        ],
        { env: env() },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const host = JSON.parse(r.stdout);
      expect(host).toMatchObject({ name: profile, version, status: "supported", profile });
      expect(host.capabilities).toMatchObject(caps);
      if (profile === "openai-compat") expect(host.capabilities.cn_platforms).toEqual([]);
      if (profile === "legacy")
        expect(host.warnings.map((w: { code: string }) => w.code)).toContain("NO_CHAT_COMPLETIONS");
      expect(r.stdout).not.toContain(s.sim.state.adminApiKey);
    },
  );

  it("reads the key from stdin and from a named environment variable", async () => {
    const s = sims["cn-native"] as RunningSim;
    const viaStdin = await runRelay(
      ["--json", "host", "add", "--name", "stdin-host", "--base-url", s.url, "--admin-key-stdin"],
      {
        env: env(),
        input: `${s.sim.state.adminApiKey}\n`,
      },
    );
    expect(viaStdin.code).toBe(0);
    const viaEnv = await runRelay(
      ["--json", "host", "add", "--name", "env-host", "--base-url", s.url, "--admin-key-env", "SIM_KEY"],
      {
        env: { ...env(), SIM_KEY: s.sim.state.adminApiKey },
      },
    );
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout).status).toBe("supported");
  });
});

describe("failures: clear message, non-zero exit, nothing stored", () => {
  it("a wrong admin key", async () => {
    const before = await rowCount(t.ctx, "hosts");
    const s = sims["cn-native"] as RunningSim;
    const r = await runRelay(
      ["host", "add", "--name", "wrong", "--base-url", s.url, "--admin-key-env", "BAD"],
      {
        env: { ...env(), BAD: `admin-${"0".repeat(64)}` },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the admin API key \(INVALID_ADMIN_KEY\)/);
    expect(r.stderr).toMatch(/hint: /);
    expect(await rowCount(t.ctx, "hosts")).toBe(before);
  });

  it("an unreachable URL", async () => {
    const r = await runRelay(
      ["--json", "host", "add", "--name", "gone", "--base-url", "http://127.0.0.1:9", "--admin-key-env", "K"],
      {
        env: { ...env(), K: "admin-x" },
      },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe("HOST_UNREACHABLE");
  });

  it("a non-https remote URL", async () => {
    const r = await runRelay(
      ["host", "add", "--name", "plain", "--base-url", "http://sub2api.example.com", "--admin-key-env", "K"],
      {
        env: { ...env(), K: "admin-x" },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing plain http/);
    expect(r.stderr).toMatch(/RELAY_ALLOW_INSECURE_HOSTS/);
  });

  it("a compliance-locked host is recorded as unsupported with the way out, exit 1", async () => {
    const s = sims.locked as RunningSim;
    const r = await runRelay(
      ["host", "add", "--name", "locked", "--base-url", s.url, "--admin-key-file", keyFile(s, "locked")],
      { env: env() },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/status:\s+UNSUPPORTED/);
    expect(r.stdout).toMatch(/compliance commitment/);
    expect(r.stdout).toMatch(/relay host probe/);
  });

  it("refuses a secret on the command line without echoing it", async () => {
    const r = await runRelay(
      ["host", "add", "--name", "x", "--base-url", "https://h", "--admin-key", "admin-supersecret"],
      { env: env() },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--admin-key is refused/);
    expect(r.stderr + r.stdout).not.toContain("supersecret");
    const eq = await runRelay(["host", "add", "--admin-key=admin-supersecret"], { env: env() });
    expect(eq.code).toBe(1);
    expect(eq.stderr + eq.stdout).not.toContain("supersecret");
  });

  it("requires exactly one key source", async () => {
    const r = await runRelay(["host", "add", "--name", "x", "--base-url", "https://h"], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /exactly one of --admin-key-file PATH, --admin-key-stdin or --admin-key-env VAR/,
    );
  });

  it("names a bad environment variable", async () => {
    const r = await runRelay(["host", "list"], { env: { ...env(), RELAY_LOG_LEVEL: "chatty" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RELAY_LOG_LEVEL: must be one of/);
  });
});

describe("relay host list|show|probe", () => {
  it("lists as a table and as JSON, shows and probes by name", async () => {
    const table = await runRelay(["host", "list"], { env: env() });
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^NAME\s+STATUS\s+REACHABLE\s+VERSION\s+PROFILE\s+URL\s+LAST PROBE OK\s+LAST ERROR/,
    );
    expect(table.stdout).toMatch(/cn-native\s+supported\s+yes\s+0\.1\.179/);

    const list = JSON.parse((await runRelay(["--json", "host", "list"], { env: env() })).stdout);
    expect(list.items.map((h: { name: string }) => h.name)).toEqual(
      expect.arrayContaining(["cn-native", "legacy", "openai-compat"]),
    );

    const show = await runRelay(["host", "show", "legacy"], { env: env() });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/version:\s+0\.1\.27/);
    expect(show.stdout).toMatch(/no \/v1\/chat\/completions/);

    const probe = await runRelay(["--json", "host", "probe", "cn-native"], { env: env() });
    expect(probe.code).toBe(0);
    expect(JSON.parse(probe.stdout).status).toBe("supported");

    const missing = await runRelay(["host", "show", "nope"], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no host "nope"/);
  });

  it("prints help with an example for each host command", async () => {
    for (const sub of ["add", "list", "show", "probe"]) {
      const r = await runRelay(["host", sub, "--help"], { env: env() });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Example:\n\s+relay host/);
    }
  });
});

describe("relay host probe meets a transient error (R6)", () => {
  it("a 5xx or a lasting 429 on a platform probe fails the probe and keeps the last snapshot", async () => {
    const s = await startSimulator({ profile: "cn-native" });
    try {
      const add = await runRelay(
        [
          "--json",
          "host",
          "add",
          "--name",
          "flaky",
          "--base-url",
          s.url,
          "--admin-key-file",
          keyFile(s, "flaky"),
        ],
        { env: env() },
      );
      expect(add.code).toBe(0);
      const before = JSON.parse(add.stdout);
      expect(before.profile).toBe("cn-native");
      expect(before.capabilities.cn_platforms.length).toBeGreaterThan(0);
      const snapshots = await rowCount(t.ctx, "host_capability_snapshots");
      // The platform probes are POSTs to /admin/groups; every one of them fails, whatever the retries.
      const platformProbes = /^POST \/api\/v1\/admin\/groups$/;
      for (const faults of [
        { errorRate: 1, match: platformProbes },
        { rateLimitRate: 1, retryAfterSeconds: 0, match: platformProbes },
      ]) {
        s.sim.options.faults = faults;
        const r = await runRelay(["host", "probe", "flaky"], { env: env() });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(faults.errorRate ? /transient/ : /rate-limit/);
        expect(r.stderr).toMatch(/the last snapshot is kept/);
        s.sim.options.faults = {};
        const shown = JSON.parse(
          (await runRelay(["--json", "host", "show", "flaky"], { env: env() })).stdout,
        );
        expect(shown.profile).toBe("cn-native");
        expect(shown.capabilities.cn_platforms).toEqual(before.capabilities.cn_platforms);
        expect(await rowCount(t.ctx, "host_capability_snapshots")).toBe(snapshots);
      }
      // With the host well again, a probe records as before.
      const ok = await runRelay(["--json", "host", "probe", "flaky"], { env: env() });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).profile).toBe("cn-native");
    } finally {
      await s.close();
    }
  });
});
