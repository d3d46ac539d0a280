/**
 * Hostile inputs, round 2: what a hostile pack, host, file or caller can send (issue "Hardening,
 * round 2"). Every case must end in a clear refusal within a second and under 100 MB of extra
 * memory, with no server file name, page body or terminal escape in any output, changing nothing.
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { sql } from "kysely";
import { createApp } from "../../src/api/http/app.js";
import { storeKind } from "../../src/store/db.js";
import { projectRoot } from "../../src/util/paths.js";
import { writeSignedPack } from "../fixtures/packs/write.js";
import { writeZip } from "../fixtures/packs/zip-writer.js";
import { RELAY_BIN } from "../helpers/cli.js";
import { exec, makeTestEnv, rowCount, TEST_API_TOKEN } from "../helpers/context.js";
import { deepseekKey, makeWorld } from "../helpers/world.js";
import type { HostileFigures, SecretLedger } from "./suite.js";

export const BOUNDS = { cpuMs: 1000, extraMb: 100 };

/** What must never appear in anything relay prints or answers. */
const LEAKS = [
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal escape is what is looked for
  /\u001b/, // terminal escapes
  /hunter2/, // a page body's secret
  /master\.key|relay\.db/, // the data directory's files
  /ABORT|alternatives\//, // files under /etc
  /root:x:0:0/, // /etc/passwd
  /\n\s+at [^\n]+:\d+:\d+/, // a stack trace
];

interface CliRun {
  code: number | null;
  out: string;
  /** CPU time the process used (user + system, read from /proc while it ran): the work a case
   * costs, which a busy machine does not change as it changes wall time. */
  cpuMs: number;
  peakMb: number;
}

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** Runs the CLI, sampling its resident memory and CPU time from /proc while it runs. */
function runCli(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
  timeoutMs = 10_000,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RELAY_BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let peak = 0;
    let cpuMs = 0;
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const sample = setInterval(() => {
      try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
        if (kb) peak = Math.max(peak, Number(kb) / 1024);
        // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
        const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        cpuMs = Math.max(cpuMs, ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ);
      } catch {
        // the process has ended
      }
    }, 10);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearInterval(sample);
      clearTimeout(timer);
      resolve({ code, out, cpuMs, peakMb: peak });
    });
    // A child that refuses early closes its stdin while a large input is still being written.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

/** A fake "host": answers every request with what the case wants. */
async function fakeHost(handler: (path: string, res: import("node:http").ServerResponse) => void) {
  const server: Server = createServer((req, res) => handler(req.url ?? "/", res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A "host" that writes a raw HTTP answer (headers Node's own server would refuse to send). */
async function rawHost(answer: string) {
  // Answers every request on a connection and keeps it open, as a keep-alive server would.
  const sockets = new Set<import("node:net").Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => socket.write(answer, "latin1"));
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => r());
      }),
  };
}

const envelope = (data: unknown) => JSON.stringify({ code: 0, message: "success", data });

/** CPU time this process has used, in milliseconds (user + system). */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Each refusal is bounded in CPU time (1 s beyond what starting the CLI costs), not in wall time:
 * the work a hostile input costs is the same on an idle and on a busy machine, its wall time is
 * not. `timeSlack` multiplies the bound (`npm test` passes Infinity: the suite runs there for its
 * other verdicts).
 */
export async function hostileRound2(ledger: SecretLedger, timeSlack = 1): Promise<HostileFigures> {
  const maxMs = BOUNDS.cpuMs * timeSlack;
  const figures: HostileFigures = { tried: 0, refused: 0, problems: [] };
  const w = await makeWorld();
  const app = createApp(w.t.ctx);
  const closers: (() => Promise<void>)[] = [];
  const snapshot = async () =>
    JSON.stringify({
      db: await Promise.all(
        ["hosts", "packs", "providers", "import_batches", "managed_resources"].map(
          async (t) => await rowCount(w.t.ctx, t),
        ),
      ),
      host: w.sim.sim.state.liveCounts(),
    });
  const judge = async (
    name: string,
    ok: boolean,
    output: string,
    cpuMs: number,
    extraMb: number,
    before: string,
  ) => {
    figures.tried += 1;
    ledger.text(output);
    const leak = LEAKS.find((re) => re.test(output));
    if (!ok) figures.problems.push(`${name}: not refused cleanly: ${output.slice(0, 200)}`);
    else if (leak)
      figures.problems.push(`${name}: output shows ${leak}: ${JSON.stringify(output.slice(0, 200))}`);
    else if (cpuMs > maxMs) figures.problems.push(`${name}: used ${cpuMs.toFixed(0)} ms of CPU`);
    else if (extraMb > BOUNDS.extraMb) figures.problems.push(`${name}: used ${extraMb.toFixed(0)} MB more`);
    else if ((await snapshot()) !== before) figures.problems.push(`${name}: changed the store or the host`);
    else figures.refused += 1;
  };
  /** An API call that must be refused with an error body (4xx, or 502 for a host). */
  const api = async (name: string, method: string, path: string, body: unknown, expect?: RegExp) => {
    const before = await snapshot();
    const rss = process.memoryUsage().rss;
    const t0 = cpuNow();
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
      // A string is sent as it is: JSON text whose numbers JavaScript itself cannot hold.
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const ms = cpuNow() - t0;
    const code = (() => {
      try {
        return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
      } catch {
        return "";
      }
    })();
    const ok = res.status >= 400 && res.status !== 500 && code !== "" && (!expect || expect.test(code));
    await judge(name, ok, `${res.status} ${text}`, ms, (process.memoryUsage().rss - rss) / 1048576, before);
  };
  // A CLI case is judged beyond what starting the CLI and opening its database cost
  // (`relay host list`, the slower of two runs).
  const runs = [await runCli(["host", "list"], w.t.env), await runCli(["host", "list"], w.t.env)];
  const start = runs.reduce((a, b) => (a.cpuMs > b.cpuMs ? a : b));
  const baseline = start.peakMb;
  /** A CLI run that must end non-zero with a clear message (`expect`). */
  const cli = async (
    name: string,
    args: string[],
    expect: RegExp,
    env: Record<string, string> = {},
    stdin?: string,
  ) => {
    const before = await snapshot();
    const r = await runCli(args, { ...w.t.env, ...env }, stdin);
    await judge(
      name,
      r.code !== 0 && r.code !== null && expect.test(r.out),
      r.out,
      r.cpuMs - start.cpuMs,
      r.peakMb - baseline,
      before,
    );
  };

  try {
    // 1. Pack install by path over the API: only inside RELAY_PACKS_DIR, naming no server file.
    const dataDir = dirname(w.t.dbPath);
    for (const path of [
      "/etc",
      "/etc/passwd",
      "/proc/self/pagemap",
      "/proc/self/environ",
      "/dev/zero",
      dataDir,
      join(dataDir, "master.key"),
      "../../../../etc",
      `${projectRoot()}/../`,
      "/",
    ]) {
      await api(`pack path ${path}`, "POST", "/api/packs/install", { path }, /PACK_PATH_NOT_ALLOWED/);
    }
    const allowed = join(w.t.dir, "packs-dir");
    mkdirSync(allowed);
    symlinkSync("/etc", join(allowed, "escape"));
    spawnSync("mkfifo", [join(allowed, "fifo.zip")]);
    writeFileSync(join(allowed, "not-a-pack.zip"), "plain text");
    const t2 = await makeTestEnv({ RELAY_PACKS_DIR: allowed });
    const app2 = createApp(t2.ctx);
    const noDir = await makeTestEnv({ RELAY_PACKS_DIR: "" });
    const app3 = createApp(noDir.ctx);
    closers.push(async () => {
      await t2.cleanup();
      await noDir.cleanup();
    });
    for (const [label, a, path, code] of [
      ["a symlink out of RELAY_PACKS_DIR", app2, "escape", /PACK_PATH_NOT_ALLOWED/],
      ["a FIFO inside RELAY_PACKS_DIR", app2, "fifo.zip", /ENTRY_NOT_REGULAR/],
      ["a missing pack inside RELAY_PACKS_DIR", app2, "nothing-here", /PACK_PATH_NOT_FOUND/],
      ["not a zip inside RELAY_PACKS_DIR", app2, "not-a-pack.zip", /ZIP_INVALID/],
      ["any path when RELAY_PACKS_DIR is unset", app3, "/etc", /PACK_PATH_INSTALL_DISABLED/],
      [
        "the shipped pack when RELAY_PACKS_DIR is unset",
        app3,
        join(projectRoot(), "packs", "openai-cn-pack"),
        /PACK_PATH_INSTALL_DISABLED/,
      ],
    ] as const) {
      const before = await snapshot();
      const t0 = cpuNow();
      const res = await a.request("/api/packs/install", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ path }),
      });
      const text = await res.text();
      await judge(
        `pack path: ${label}`,
        res.status >= 400 && res.status < 500 && code.test(text),
        text,
        cpuNow() - t0,
        0,
        before,
      );
    }

    // 2. key_pattern that cannot stall: refused at install, at lint, and before use.
    const vulnerable = [
      "^(a+)+$",
      "^(a|a)*$",
      "^([a-z]*)*$",
      "(x+x+)+y",
      "^(\\w+\\s?)*$",
      "^(sk-|sk-)*[a-z]+$",
      "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*$",
      "^(.*a){12}$",
    ];
    for (const [i, pattern] of vulnerable.entries()) {
      const files = provider(`redos-${i}`, pattern);
      const zip = writeZip([...files].map(([name, data]) => ({ name, data })));
      const before = await snapshot();
      const t0 = cpuNow();
      const res = await app.request("/api/packs/install", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_TOKEN}`, "content-type": "application/zip" },
        body: zip,
      });
      const text = await res.text();
      await judge(
        `ReDoS pattern ${pattern}: install`,
        res.status === 422 && /KEY_PATTERN_UNSAFE/.test(text),
        text,
        cpuNow() - t0,
        0,
        before,
      );
      const dir = join(w.t.dir, `redos-${i}`);
      writeSignedPack(dir, files);
      await cli(`ReDoS pattern ${pattern}: pack lint`, ["pack", "lint", dir], /KEY_PATTERN_UNSAFE/);
    }
    // A pack installed before patterns were checked: the pattern is refused before any key is matched.
    const setPattern =
      storeKind(w.t.ctx.db) === "postgres"
        ? sql`jsonb_set(definition::jsonb, '{key_pattern}', '"^(a+)+$"')::text`
        : sql`json_set(definition, '$.key_pattern', '^(a+)+$')`;
    await exec(
      w.t.ctx,
      sql`UPDATE providers SET definition = ${setPattern}, key_pattern_checked = 0 WHERE provider_id = 'kimi'`,
    );
    await api(
      "an unsafe pattern stored before the check, with a 32-character attack key",
      "POST",
      "/api/providers/kimi/preview-import",
      { host_id: "sim", keys: [`${"a".repeat(32)}!`] },
      /KEY_PATTERN_UNSAFE/,
    );

    // 3. Host answers: bounded, never echoed, never printed raw.
    const hosts = {
      "a 50 MB version": await fakeHost((_p, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"code":0,"data":{"version":"');
        const chunk = "0".repeat(1024 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 50 && res.write(chunk)) sent += 1;
          if (sent < 50) res.once("drain", pump);
          else res.end('"}}');
        };
        pump();
      }),
      "a version with terminal escapes": await fakeHost((_p, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(envelope({ version: "0.1.126\u001b[2J\u001b[31mRED\u001b]0;pwned\u0007" }));
      }),
      "an internal page instead of sub2api": await fakeHost((_p, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>config: db_password=hunter2 admin_user=root</body></html>");
      }),
      "an internal error page": await fakeHost((_p, res) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("panic: db_password=hunter2 at main.go:12");
      }),
      "a JSON error whose message holds escapes": await fakeHost((_p, res) => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            code: 401,
            message: "bad key \u001b[2J\u001b]0;pwned\u0007",
            reason: "INVALID_ADMIN_KEY",
          }),
        );
      }),
      "a redirect with escapes in Location": await rawHost(
        "HTTP/1.1 302 Found\r\nLocation: https://evil.example/\u001b[2J\u001b]0;pwned\u0007\r\nContent-Length: 0\r\n\r\n",
      ),
      "a 20 MB error body": await fakeHost((_p, res) => {
        res.writeHead(500, { "content-type": "text/html" });
        res.end(`<html>${"x".repeat(20 * 1024 * 1024)}hunter2</html>`);
      }),
    };
    for (const [label, h] of Object.entries(hosts)) {
      closers.push(h.close);
      await api(`host answering ${label} (API)`, "POST", "/api/hosts", {
        name: `evil-${Object.keys(hosts).indexOf(label)}`,
        base_url: h.url,
        auth: { type: "admin_api_key", token: `admin-${"ab".repeat(32)}` },
      });
      const keyFile = join(w.t.dir, "admin.key");
      writeFileSync(keyFile, `admin-${"cd".repeat(32)}\n`);
      await cli(
        `host answering ${label} (CLI)`,
        ["host", "add", "--name", "evil", "--base-url", h.url, "--admin-key-file", keyFile],
        /error:/,
      );
    }

    // 4. Link-local and metadata addresses: refused before any request, without RELAY_ALLOW_INSECURE_HOSTS or with it.
    for (const url of [
      "https://169.254.169.254",
      "http://169.254.169.254/latest/meta-data/",
      "https://169.254.0.1",
      "https://[fe80::1]",
      "https://[::ffff:169.254.169.254]",
      "https://metadata.google.internal",
      "https://100.100.100.200",
      "https://[fd00:ec2::254]",
    ]) {
      await api(
        `host at ${url}`,
        "POST",
        "/api/hosts",
        {
          name: "meta",
          base_url: url,
          auth: { type: "admin_api_key", token: `admin-${"ab".repeat(32)}` },
        },
        /LINK_LOCAL_HOST|INSECURE_BASE_URL/,
      );
    }

    // 5. Files: special files, directories and oversized input are refused before they are read.
    const dir = join(w.t.dir, "a-directory");
    mkdirSync(dir);
    const fifo = join(w.t.dir, "keys.fifo");
    spawnSync("mkfifo", [fifo]);
    const big = join(w.t.dir, "big.keys");
    writeFileSync(big, `${deepseekKey()}\n`.repeat(300_000));
    const importWith = (file: string) => [
      "provider",
      "import",
      "deepseek",
      "--host",
      "sim",
      "--keys-file",
      file,
      "--mode",
      "strict",
      "--yes",
    ];
    for (const [label, file] of [
      ["/dev/zero", "/dev/zero"],
      ["/dev/urandom", "/dev/urandom"],
      ["/proc/self/pagemap", "/proc/self/pagemap"],
      ["/proc/self/environ", "/proc/self/environ"],
      ["a directory", dir],
      ["a FIFO with no writer", fifo],
      ["a file over 8 MiB", big],
      ["a missing file", join(w.t.dir, "missing.keys")],
    ] as const) {
      await cli(`--keys-file ${label}`, importWith(file), /cannot use (the key file|standard input)/);
    }
    await cli(
      "--keys-file - fed more than 8 MiB",
      importWith("-"),
      /cannot use standard input/,
      {},
      "k".repeat(9 * 1024 * 1024),
    );
    for (const [label, file] of [
      ["/dev/zero", "/dev/zero"],
      ["a directory", dir],
      ["a FIFO", fifo],
    ] as const) {
      await cli(
        `--admin-key-file ${label}`,
        ["host", "add", "--name", "x", "--base-url", w.sim.url, "--admin-key-file", file],
        /cannot use the admin API key file/,
      );
    }

    // A pack whose names carry terminal escapes: installed (names are free text), printed clean.
    const escaped = provider("escape-pack", "^sk-[a-z0-9]{8}$");
    const manifest = JSON.parse(String(escaped.get("pack.json"))) as Record<string, unknown>;
    manifest.name = "Pack \u001b[2J\u001b[31mRED\u001b]0;pwned\u0007";
    manifest.description = "\u202eevil\u001b[0m";
    escaped.set("pack.json", Buffer.from(JSON.stringify(manifest)));
    const escDir = join(w.t.dir, "escape-pack");
    writeSignedPack(escDir, escaped);
    for (const args of [
      ["pack", "install", escDir],
      ["pack", "show", "escape-pack"],
      ["pack", "list"],
    ]) {
      const r = await runCli(args, w.t.env);
      figures.tried += 1;
      ledger.text(r.out);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: raw escapes in the output are what is looked for
      const bad = /\u001b|\u202e|\u0007/.test(r.out);
      const named = args[1] === "list" || /Pack \[2J\[31mRED/.test(r.out); // the list shows ids only
      if (r.code !== 0 || bad || r.cpuMs - start.cpuMs > maxMs || !named)
        figures.problems.push(
          `pack names with escapes (${args.join(" ")}): exit ${r.code}, raw control characters: ${bad}`,
        );
      else figures.refused += 1;
    }

    // 6. The minor ones.
    const secret = `admin-${"bb".repeat(32)}`;
    await cli(
      "a secret given as --admin-key-env is not echoed",
      ["host", "add", "--name", "x", "--base-url", w.sim.url, "--admin-key-env", secret],
      /not an environment variable name/,
    );
    await cli(
      "--subscribe 9007199254740993 is refused, not rounded",
      [...importWith(big), "--subscribe", "9007199254740993"],
      /larger than 9007199254740991/,
    );
    await api(
      "subscription target 9007199254740993 (number) over the API",
      "POST",
      "/api/providers/deepseek/preview-import",
      `{"host_id":"sim","keys":["${deepseekKey()}"],"subscription_targets":[{"user_id":9007199254740993}]}`,
      /INVALID_REQUEST|INVALID_SUBSCRIBER/,
    );
    await api(
      'subscription target "9007199254740993" (string) over the API',
      "POST",
      "/api/providers/deepseek/preview-import",
      {
        host_id: "sim",
        keys: [deepseekKey()],
        subscription_targets: [{ user_id: "9007199254740993" }],
      },
      /INVALID_REQUEST|INVALID_SUBSCRIBER/,
    );
    await cli("RELAY_API_TOKEN of one repeated letter", ["serve"], /too predictable/, {
      RELAY_API_TOKEN: "a".repeat(16),
    });
    await cli("RELAY_API_TOKEN of two alternating letters", ["serve"], /too predictable/, {
      RELAY_API_TOKEN: "ab".repeat(16),
    });
    // A database without its master key: refused, and no new key file written.
    const lonely = join(w.t.dir, "lonely");
    mkdirSync(lonely);
    writeFileSync(join(lonely, "relay.db"), "");
    const { RELAY_MASTER_KEY: _k, ...noKey } = w.t.env;
    const before = await snapshot();
    const r = await runCli(["host", "list"], {
      ...noKey,
      RELAY_DB_PATH: join(lonely, "relay.db"),
      RELAY_DATABASE_URL: "",
    });
    await judge(
      "a database without its master key",
      r.code !== 0 &&
        /no master key for the existing database/.test(r.out) &&
        !existsQuiet(join(lonely, "master.key")),
      r.out,
      r.cpuMs - start.cpuMs,
      r.peakMb - baseline,
      before,
    );
    // PostgreSQL: replicas share one key, so none is ever generated; refused before connecting.
    const beforeShared = await snapshot();
    const shared = await runCli(["host", "list"], {
      ...noKey,
      RELAY_DATABASE_URL: "postgres://relay@127.0.0.1:1/relay",
      RELAY_MASTER_KEY_FILE: join(lonely, "none.key"),
    });
    await judge(
      "PostgreSQL without a master key",
      shared.code !== 0 &&
        /RELAY_MASTER_KEY: is required with RELAY_DATABASE_URL/.test(shared.out) &&
        !existsQuiet(join(lonely, "none.key")),
      shared.out,
      shared.cpuMs - start.cpuMs,
      shared.peakMb - baseline,
      beforeShared,
    );
    // A read-only command where there is no state creates none; a new database is created
    // readable by its owner only.
    const fresh = join(w.t.dir, "fresh", "relay.db");
    mkdirSync(dirname(fresh));
    const listed = await runCli(["host", "list"], {
      ...w.t.env,
      RELAY_DB_PATH: fresh,
      RELAY_DATABASE_URL: "",
    });
    figures.tried += 1;
    if (listed.code === 0 || !/no state at/.test(listed.out) || existsQuiet(fresh))
      figures.problems.push(
        `host list where there is no state: exit ${listed.code}, created ${existsQuiet(fresh)}`,
      );
    else figures.refused += 1;
    const made = await runCli(["batch", "recover"], {
      ...w.t.env,
      RELAY_DB_PATH: fresh,
      RELAY_DATABASE_URL: "",
    });
    figures.tried += 1;
    const mode = statSync(fresh).mode & 0o777;
    if (made.code !== 0 || mode !== 0o600)
      figures.problems.push(`new relay.db is mode ${mode.toString(8)} (exit ${made.code})`);
    else figures.refused += 1;
    ledger.fromWorld(w);
    return figures;
  } finally {
    for (const c of closers) await c();
    await w.close();
  }
}

function existsQuiet(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A one-provider pack whose key_pattern is `pattern`. */
function provider(id: string, pattern: string): Map<string, Buffer> {
  return new Map([
    [
      "pack.json",
      Buffer.from(
        JSON.stringify({
          schema_version: 1,
          pack_id: id,
          name: id,
          version: "1.0.0",
          description: "hostile",
          host: { app: "sub2api", version_range: ">=0.1.0" },
        }),
      ),
    ],
    [
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
          key_pattern: pattern,
          account_defaults: { concurrency: 2, priority: 50 },
          group_defaults: { subscription_type: "subscription", rate_multiplier: 1, is_exclusive: false },
        }),
      ),
    ],
  ]);
}
