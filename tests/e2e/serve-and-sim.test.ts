import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import { RELAY_BIN, runRelay } from "../helpers/cli.js";
import { makeTestEnv, TEST_API_TOKEN, type TestEnv } from "../helpers/context.js";
import { freePort } from "../helpers/net.js";

let t: TestEnv | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await t?.cleanup();
  t = undefined;
});

async function waitFor(url: string, ms = 10_000): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("relay serve", () => {
  it("refuses to start without RELAY_API_TOKEN, naming the variable", async () => {
    t = await makeTestEnv();
    const { RELAY_API_TOKEN: _omit, ...env } = t.env;
    const r = await runRelay(["serve"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RELAY_API_TOKEN: is required/);
  });

  it("serves health without auth, the API with the bearer token, and stops on SIGTERM", async () => {
    t = await makeTestEnv();
    const port = await freePort();
    child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: { ...t.env, RELAY_LISTEN: `127.0.0.1:${port}`, PATH: process.env.PATH ?? "" },
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await waitFor(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/api/hosts`)).status).toBe(401);
    const ok = await fetch(`${base}/api/hosts`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: [], next_cursor: null });
    // "/metrics lacks default process metrics": relay serve exports them.
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(metrics).toMatch(/relay_build_info\{version="\d+\.\d+\.\d+",node="[\d.]+"\} 1/);
    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("relay serve beyond loopback", () => {
  it("0.0.0.0 over plain HTTP started without a warning: now it warns that the token crosses the network unencrypted", async () => {
    t = await makeTestEnv();
    const port = await freePort();
    child = spawn(process.execPath, [RELAY_BIN, "serve"], {
      env: {
        ...t.env,
        RELAY_LISTEN: `0.0.0.0:${port}`,
        RELAY_LOG_LEVEL: "info",
        PATH: process.env.PATH ?? "",
      },
    });
    let logs = "";
    child.stderr?.on("data", (d) => {
      logs += d;
    });
    expect((await waitFor(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const deadline = Date.now() + 5_000;
    while (!/plain HTTP/.test(logs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(logs).toMatch(/"level":40.*listens beyond this machine over plain HTTP/);
    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("npm run sim entry point", () => {
  it("starts a simulator on a free port and prints its URL and version", async () => {
    const main = join(projectRoot(), "dist", "tests", "sim", "sub2api", "main.js");
    child = spawn(process.execPath, [main, "--profile", "legacy", "--port", "0"]);
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child?.stdout?.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
      });
      child?.on("exit", (code) => reject(new Error(`sim exited with ${code}`)));
    });
    const info = JSON.parse(line);
    expect(info).toMatchObject({ profile: "dec-2025", version: "0.1.27" });
    const version = await fetch(`${info.url}/api/v1/admin/system/version`, {
      headers: { "x-api-key": info.admin_key },
    });
    expect(await version.json()).toEqual({ code: 0, message: "success", data: { version: "0.1.27" } });
  });
});
