import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";

const KEY = Buffer.alloc(32, 1).toString("base64");

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({ RELAY_MASTER_KEY: KEY });
    expect(c.dbPath).toBe("./data/relay.db");
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.reconcileCron).toBe("*/15 * * * *");
    expect(c.allowInsecureHosts).toBe(false);
    expect(c.logLevel).toBe("info");
    expect(c.apiToken).toBeUndefined();
    expect(c.masterKey).toHaveLength(32);
  });

  it.each([
    ["RELAY_LISTEN", "localhost"],
    ["RELAY_LISTEN", "127.0.0.1:99999"],
    ["RELAY_RECONCILE_CRON", "every minute"],
    ["RELAY_ALLOW_INSECURE_HOSTS", "maybe"],
    ["RELAY_LOG_LEVEL", "loud"],
    ["RELAY_API_TOKEN", "short"],
    ["RELAY_MASTER_KEY", "not-32-bytes"],
    ["RELAY_HOST_TIMEOUT_MS", "fast"],
  ])("rejects %s=%s with a message naming the variable", (name, value) => {
    const env = { RELAY_MASTER_KEY: KEY, [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${name}: `));
  });

  it("requires RELAY_API_TOKEN only when asked (relay serve)", () => {
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY }, { requireApiToken: true })).toThrow(
      /RELAY_API_TOKEN: is required/,
    );
    const token = "3f9a1c7e5b2d8046a9e1f3c5d7b9a2e4";
    expect(
      loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_API_TOKEN: token }, { requireApiToken: true }).apiToken,
    ).toBe(token);
  });

  it("a 16-character token of one repeated letter was accepted: now refused as too predictable", () => {
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_API_TOKEN: "a".repeat(16) })).toThrow(
      /RELAY_API_TOKEN: is too predictable/,
    );
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_API_TOKEN: "abababababababababab" })).toThrow(
      /too predictable/,
    );
  });

  it("RELAY_PACKS_DIR must name an existing directory, and is unset by default", () => {
    expect(loadConfig({ RELAY_MASTER_KEY: KEY }).packsDir).toBeUndefined();
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_PACKS_DIR: "/nonexistent/packs" })).toThrow(
      /RELAY_PACKS_DIR: must name an existing directory/,
    );
  });

  it("a missing master key wrote a new master.key before refusing: with a database present nothing is written", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-cfg-"));
    try {
      const db = join(dir, "relay.db");
      writeFileSync(db, "");
      expect(() => loadConfig({ RELAY_DB_PATH: db })).toThrow(/no master key for the existing database/);
      expect(existsSync(join(dir, "master.key"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts IPv6 listen addresses and hex master keys", () => {
    const c = loadConfig({ RELAY_LISTEN: "[::1]:9000", RELAY_MASTER_KEY: "ab".repeat(32) });
    expect(c.listen).toEqual({ host: "::1", port: 9000 });
    expect(c.masterKey.toString("hex")).toBe("ab".repeat(32));
  });

  it("creates a 0600 master key file next to the database on first start and reuses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-cfg-"));
    const env = { RELAY_DB_PATH: join(dir, "state", "relay.db") };
    const first = loadConfig(env);
    const file = join(dir, "state", "master.key");
    expect(first.masterKeySource).toBe("file");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig(env).masterKey.equals(first.masterKey)).toBe(true);
  });

  it("refuses a master key file readable by others", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-cfg-"));
    const file = join(dir, "master.key");
    writeFileSync(file, KEY, { mode: 0o644 });
    expect(() => loadConfig({ RELAY_MASTER_KEY_FILE: file })).toThrow(/RELAY_MASTER_KEY_FILE: .*chmod 600/);
  });
});

describe(".env.example", () => {
  it("documents exactly the variables of the one schema, and reads none outside it", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { projectRoot } = await import("../../src/util/paths.js");
    const { RelayEnv } = await import("../../src/config/env-schema.js");
    const schema = Object.keys(RelayEnv.properties).sort();
    const example = readFileSync(join(projectRoot(), ".env.example"), "utf8");
    const documented = new Set([...example.matchAll(/^(RELAY_[A-Z_]+)=/gm)].map((m) => m[1]));
    expect(schema).toEqual([...documented].sort());
    const source = readFileSync(join(projectRoot(), "src", "config", "index.ts"), "utf8");
    const read = new Set([...source.matchAll(/"(RELAY_[A-Z_]+)"/g)].map((m) => m[1] as string));
    for (const name of read) expect(schema, name).toContain(name);
  });

  it("coerces through the schema: numbers, flags in their spellings, blanks as unset", () => {
    const c = loadConfig({
      RELAY_MASTER_KEY: KEY,
      RELAY_HOST_TIMEOUT_MS: " 2500 ",
      RELAY_ALLOW_INSECURE_HOSTS: "Yes",
      RELAY_ALLOW_LINK_LOCAL_HOSTS: "off",
      RELAY_ALLOW_LOOPBACK_UPSTREAMS: "1",
      RELAY_LOG_LEVEL: "warn",
      RELAY_HOST_CONCURRENCY: "",
    });
    expect(c.hostTimeoutMs).toBe(2500);
    expect(c.allowInsecureHosts).toBe(true);
    expect(c.allowLinkLocalHosts).toBe(false);
    expect(c.allowLoopbackUpstreams).toBe(true);
    expect(c.logLevel).toBe("warn");
    expect(c.hostConcurrency).toBe(16);
  });

  it("names every bad variable at once, the value shown except a secret's", () => {
    const env = {
      RELAY_MASTER_KEY: KEY,
      RELAY_HOST_TIMEOUT_MS: "1.5",
      RELAY_LEASE_MS: "10",
      RELAY_ALLOW_INSECURE_HOSTS: "maybe",
    };
    expect(() => loadConfig(env)).toThrow(
      'RELAY_ALLOW_INSECURE_HOSTS: must be true or false, got "maybe"; RELAY_HOST_TIMEOUT_MS: must be an integer between 100 and 600000, got "1.5"; RELAY_LEASE_MS: must be an integer between 1000 and 3600000, got "10"',
    );
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_LOG_LEVEL: "loud" })).toThrow(
      'RELAY_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
  });
});

describe("drift ignore rules (RELAY_DRIFT_IGNORE, RELAY_DRIFT_IGNORE_FILE)", () => {
  it("parses the variable and the file; a bad rule stops the start, naming the variable", async () => {
    const { applyIgnoreRules, unknownIgnoreTargets } = await import("../../src/domain/drift-ignore.js");
    const dir = mkdtempSync(join(tmpdir(), "relay-ignore-"));
    const file = join(dir, "ignore.txt");
    writeFileSync(
      file,
      "# accepted on prod\n*:group.description\n\nkimi:plan.* # storefront managed by hand\n",
    );
    const c = loadConfig({
      RELAY_MASTER_KEY: KEY,
      RELAY_DRIFT_IGNORE: "deepseek:account.schedulable, deepseek:group.rate_multiplier",
      RELAY_DRIFT_IGNORE_FILE: file,
    });
    expect(c.driftIgnore.map((r) => r.text)).toEqual([
      "deepseek:account.schedulable",
      "deepseek:group.rate_multiplier",
      "*:group.description",
      "kimi:plan.*",
    ]);
    expect(unknownIgnoreTargets(c.driftIgnore)).toEqual([]);
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_DRIFT_IGNORE: "deepseek.group" })).toThrow(
      /^RELAY_DRIFT_IGNORE: "deepseek.group" is not PROVIDER:TYPE.FIELD/,
    );
    expect(() => loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_DRIFT_IGNORE_FILE: join(dir, "nope") })).toThrow(
      /^RELAY_DRIFT_IGNORE_FILE: cannot read/,
    );
    const typo = loadConfig({ RELAY_MASTER_KEY: KEY, RELAY_DRIFT_IGNORE: "*:acount.priority" }).driftIgnore;
    expect(unknownIgnoreTargets(typo)).toEqual([
      { variable: "RELAY_DRIFT_IGNORE", problem: expect.stringMatching(/no resource type "acount"/) },
    ]);
    const changed = (resource_type: string, field: string) => ({
      kind: "changed" as const,
      resource_type,
      field,
      name: "n",
      host_resource_id: 1,
      expected: 1,
      actual: 2,
      message: "m",
    });
    const missing = {
      kind: "missing" as const,
      resource_type: "group",
      name: "g",
      host_resource_id: 1,
      message: "m",
    };
    const { kept, ignored } = applyIgnoreRules(c.driftIgnore, "deepseek", [
      changed("group", "rate_multiplier"),
      changed("group", "daily_limit_usd"),
      changed("group", "description"),
      changed("plan", "price"),
      missing,
    ]);
    expect(kept.map((f) => f.field ?? f.kind)).toEqual(["daily_limit_usd", "price", "missing"]);
    expect(ignored.map((i) => i.rule)).toEqual(["deepseek:group.rate_multiplier", "*:group.description"]);
    rmSync(dir, { recursive: true, force: true });
  });
});
