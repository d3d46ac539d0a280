/**
 * `npm run demo`: the whole job against a simulated sub2api host, through the real CLI, with a
 * throw-away database. Each step checks that it did what it says; the demo exits 0 only if all did.
 *
 * Steps present so far: start the simulator, add the host, list it, probe it again, lint and install
 * the shipped model pack, preview and import two keys (partial) with a subscription, prove access,
 * show a user calling through the host, delete an account by hand and reconcile (drifted), roll back.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../src/util/paths.js";
import { startSimulator } from "../tests/sim/sub2api/server.js";

const relayBin = join(projectRoot(), "dist", "bin", "relay.mjs");
const dir = mkdtempSync(join(tmpdir(), "relay-demo-"));
const env = {
  PATH: process.env.PATH ?? "",
  RELAY_DB_PATH: join(dir, "relay.db"),
  RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
  RELAY_LOG_LEVEL: "warn",
};
let step = 0;

function banner(title: string) {
  step += 1;
  process.stdout.write(`\n── step ${step}: ${title}\n`);
}

/** Runs the real CLI as a child process (asynchronously: the simulator lives in this process). */
function relay(args: string[], input = ""): Promise<{ code: number; out: string }> {
  process.stdout.write(`$ relay ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [relayBin, ...args], { env });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      process.stdout.write(out.replace(/^(?=.)/gm, "  "));
      if (err) process.stdout.write(err.replace(/^(?=.)/gm, "  "));
      resolve({ code: code ?? 1, out });
    });
    child.stdin.end(input);
  });
}

/** The test user's own calls to the host's user API (not relay's: relay never issues user keys). */
async function hostPost(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${simUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code: number; data: Record<string, unknown> };
  if (json.code !== 0) throw new Error(`${path} failed: ${JSON.stringify(json)}`);
  return json.data;
}

function check(ok: boolean, what: string) {
  process.stdout.write(`${ok ? "✔" : "✘"} ${what}\n`);
  if (!ok) throw new Error(`demo step failed: ${what}`);
}

const sim = await startSimulator({ profile: "cn-native" });
const simUrl = sim.url;
try {
  banner("start a simulated sub2api host (cn-native profile)");
  process.stdout.write(`simulator at ${sim.url}, sub2api version ${sim.sim.profile.version}\n`);
  const keyFile = join(dir, "admin.key");
  writeFileSync(keyFile, sim.sim.state.adminApiKey, { mode: 0o600 });

  banner("register the host (the admin key is read from a file, stored encrypted)");
  const add = await relay([
    "host",
    "add",
    "--name",
    "demo",
    "--base-url",
    sim.url,
    "--admin-key-file",
    keyFile,
  ]);
  check(add.code === 0 && /status:\s+SUPPORTED/.test(add.out), "host registered and supported");
  check(
    /chat_completions/.test(add.out) && /CN platforms:\s+deepseek/.test(add.out),
    "capabilities include chat completions and CN platforms",
  );

  banner("list hosts");
  const list = await relay(["host", "list"]);
  check(list.code === 0 && /demo\s+supported\s+yes\s+0\.1\.179/.test(list.out), "host listed, reachable");

  banner("probe again (records a new capability snapshot)");
  const probe = await relay(["--json", "host", "probe", "demo"]);
  check(probe.code === 0 && JSON.parse(probe.out).status === "supported", "probe succeeded");

  banner("lint and install the shipped model pack");
  const packDir = join(projectRoot(), "packs", "openai-cn-pack");
  const lint = await relay(["pack", "lint", packDir, "--strict"]);
  check(lint.code === 0, "openai-cn-pack passes strict lint");
  const install = await relay(["pack", "install", packDir]);
  check(install.code === 0 && /installed: openai-cn-pack/.test(install.out), "pack installed");
  const show = await relay(["pack", "show", "openai-cn-pack"]);
  check(/deepseek\s+DeepSeek\s+https:\/\/api\.deepseek\.com/.test(show.out), "DeepSeek provider available");

  banner("preview an import of two DeepSeek keys (one valid, one revoked upstream)");
  const good = `sk-${randomBytes(16).toString("hex")}`;
  const revoked = `sk-${randomBytes(16).toString("hex")}`;
  sim.sim.upstream.revoke(revoked);
  const keysFile = join(dir, "deepseek.keys");
  writeFileSync(keysFile, `# two demo keys\n${good}\n${revoked}\n`, { mode: 0o600 });
  const preview = await relay([
    "provider",
    "preview",
    "deepseek",
    "--host",
    "demo",
    "--keys-file",
    keysFile,
    "--mode",
    "partial",
  ]);
  check(
    preview.code === 0 && /relay-deepseek-[0-9a-f]{8}-g1\s+create/.test(preview.out),
    "plan: create group, channel and two accounts; nothing written yet",
  );
  check(sim.sim.state.liveCounts().accounts === 0, "host untouched by the preview");

  banner("import in partial mode, subscribe a test user, prove access through the gateway");
  const mei = sim.sim.state.addUser({ email: "mei@example.com", password: "mei-demo-password" });
  process.stdout.write(`test user ${mei.email} has id ${mei.id} on the host\n`);
  const imp = await relay([
    "--json",
    "provider",
    "import",
    "deepseek",
    "--host",
    "demo",
    "--keys-file",
    keysFile,
    "--mode",
    "partial",
    "--access-mode",
    "subscription",
    "--subscribe",
    `${mei.id}:30`,
    "--yes",
  ]);
  const result = JSON.parse(imp.out) as {
    batch_id: string;
    status: string;
    access_closure_status: string;
    provider_status: string;
    created: { group_id: number };
    keys: { key: string; status: string; error: string | null }[];
  };
  check(imp.code === 3 && result.status === "partially_succeeded", "batch partially succeeded (exit code 3)");
  const failed = result.keys.find((k) => k.status === "failed");
  check(
    failed?.key === `sk-…${revoked.slice(-4)}` && /401/.test(failed.error ?? ""),
    "the revoked key is named (masked) with the host's reason",
  );
  check(!imp.out.includes(good) && !imp.out.includes(revoked), "no key appears in the output");
  check(sim.sim.state.liveCounts().accounts === 1, "one working account on the host");
  check(
    result.access_closure_status === "subscription_ready" && result.provider_status === "active",
    "access proven by a real call: provider active",
  );

  banner("the test user calls /v1/chat/completions through the host with their own key");
  const login = await hostPost("/api/v1/auth/login", { email: mei.email, password: "mei-demo-password" });
  const userKey = await hostPost(
    "/api/v1/keys",
    { name: "mei's key", group_id: result.created.group_id },
    login.access_token as string,
  );
  const chat = await fetch(`${sim.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${userKey.key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "deepseek-flash",
      messages: [{ role: "user", content: "Say hello" }],
      max_tokens: 64,
    }),
  });
  const answer = (await chat.json()) as { choices?: { message?: { content?: string } }[] };
  process.stdout.write(
    `  HTTP ${chat.status}: ${answer.choices?.[0]?.message?.content ?? JSON.stringify(answer)}\n`,
  );
  check(
    chat.status === 200 && typeof answer.choices?.[0]?.message?.content === "string",
    "the user got an answer from deepseek-flash",
  );

  banner("delete the account on the host by hand, then reconcile");
  const account = sim.sim.state.liveAccounts()[0];
  if (account) account.deletedAt = Date.now();
  process.stdout.write(`(deleted account ${account?.name} #${account?.id} directly on the host)\n`);
  const rec = await relay(["provider", "reconcile", "deepseek", "--host", "demo"]);
  check(rec.code === 2 && /active → drifted/.test(rec.out), "reconcile exits 2: provider drifted");
  check(
    new RegExp(`missing\\s+account ${account?.name}`).test(rec.out),
    "the finding names the deleted account",
  );
  const status = await relay(["provider", "status", "deepseek"]);
  check(
    /demo\s+down\s+out_of_sync\s+drifted/.test(status.out),
    "provider status: health down (its only account is gone), out of sync, status drifted",
  );

  banner("roll the batch back: the host is clean again");
  const rb = await relay(["batch", "rollback", result.batch_id, "--yes"]);
  check(rb.code === 0 && /ROLLED_BACK/.test(rb.out), "batch rolled back");
  const counts = sim.sim.state.liveCounts();
  check(
    counts.groups === 0 && counts.accounts === 0 && counts.channels === 0,
    "no group, channel or account left on the host",
  );

  process.stdout.write(
    "\nDemo complete: every step did what it says.\n" +
      "Every step ran through the real relay CLI against a simulated sub2api over HTTP.\n",
  );
} catch (err) {
  process.stdout.write(`\n${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
