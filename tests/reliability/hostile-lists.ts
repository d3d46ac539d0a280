/**
 * Hostile host lists (#29 R13), through the CLI as shipped: a real simulated host behind a proxy
 * that answers the account list itself —
 * - `endless`: one answer that never ends, `{"items":[{"id":1},{"id":1},…` in tiny chunks: the
 *   process's resident memory may grow by less than 100 MB over the same command against the
 *   honest host (memory, not time, is the verdict);
 * - `dense`: a page just under the byte limit packed with millions of empty objects, which
 *   JSON.parse would turn into hundreds of MB;
 * - `pages`: every page announces 10^7 pages for a total of 3 items, one item a page: relay stops
 *   at what the total justifies plus a small margin, with a clear error, not 10,000 requests.
 */

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { projectRoot } from "../../src/util/paths.js";
import { RELAY_BIN } from "../helpers/cli.js";
import { makeTestEnv } from "../helpers/context.js";
import { deepseekKey } from "../helpers/world.js";
import { startSimulator } from "../sim/sub2api/server.js";
import type { HostileFigures, SecretLedger } from "./suite.js";

export const EXTRA_MB = 100;
const ACCOUNTS = "/api/v1/admin/accounts";

type Mode = "honest" | "endless" | "dense" | "pages";

/** Forwards to the simulator, except the account list in the hostile modes. */
async function listProxy(target: string) {
  const state = { mode: "honest" as Mode, listCalls: 0 };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === ACCOUNTS && state.mode !== "honest") {
      state.listCalls += 1;
      hostile(state.mode, res);
      return;
    }
    const out = request(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (a) => {
        res.writeHead(a.statusCode ?? 502, a.headers);
        a.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function hostile(mode: Mode, res: ServerResponse) {
  res.writeHead(200, { "content-type": "application/json" });
  if (mode === "pages") {
    const item = { id: 1, name: "deepseek-00000000-00000000", platform: "openai", type: "apikey" };
    res.end(
      JSON.stringify({
        code: 0,
        message: "success",
        data: { items: [item], total: 3, page: 1, page_size: 1, pages: 10_000_000 },
      }),
    );
    return;
  }
  if (mode === "dense") {
    const n = Math.floor((15 * 1024 * 1024) / 3);
    res.end(`{"code":0,"message":"success","data":{"total":1,"pages":1,"items":[${"{},".repeat(n)}{}]}}`);
    return;
  }
  // Endless, in tiny chunks, as fast as the client reads.
  res.write('{"code":0,"message":"success","data":{"total":1,"pages":1,"items":[');
  const piece = '{"id":1},';
  const pump = () => {
    while (!res.destroyed) if (!res.write(piece)) return void res.once("drain", pump);
  };
  res.on("close", () => res.destroy());
  pump();
}

interface Run {
  code: number | null;
  out: string;
  peakMb: number;
}

/** Runs the CLI, reading its resident-memory high-water mark (VmHWM) from /proc while it runs. */
function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RELAY_BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let peak = 0;
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const sample = setInterval(() => {
      try {
        const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
        if (kb) peak = Math.max(peak, Number(kb) / 1024);
      } catch {
        // the process has ended
      }
    }, 5);
    // A run that neither ends nor refuses in 60 s is a failure, however busy the machine.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearInterval(sample);
      clearTimeout(timer);
      resolve({ code, out, peakMb: peak });
    });
  });
}

/** The three hostile lists, each judged against the honest run of the same preview. */
export async function hostileLists(
  ledger: SecretLedger,
): Promise<HostileFigures & { extraMb: Record<string, number>; listCalls: number }> {
  const figures = {
    tried: 0,
    refused: 0,
    problems: [] as string[],
    extraMb: {} as Record<string, number>,
    listCalls: 0,
  };
  const t = await makeTestEnv();
  const sim = await startSimulator({});
  const proxy = await listProxy(sim.url);
  try {
    await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
    await addHost(t.ctx, { name: "sim", baseUrl: proxy.url, adminKey: sim.sim.state.adminApiKey });
    const w = { t };
    const keys = join(w.t.dir, "hostile-lists.keys");
    const key = deepseekKey();
    ledger.secret(key);
    writeFileSync(keys, `${key}\n`);
    const args = ["--json", "provider", "preview", "deepseek", "--host", "sim", "--keys-file", keys];
    const honest = await runCli(args, w.t.env);
    ledger.text(honest.out);
    if (honest.code !== 0) figures.problems.push(`the honest preview failed: ${honest.out.slice(0, 300)}`);
    for (const mode of ["endless", "dense", "pages"] as const) {
      proxy.state.mode = mode;
      proxy.state.listCalls = 0;
      const r = await runCli(args, w.t.env);
      ledger.text(r.out);
      figures.tried += 1;
      const extra = r.peakMb - honest.peakMb;
      figures.extraMb[mode] = Math.round(extra);
      if (mode === "pages") figures.listCalls = proxy.state.listCalls;
      const clear = mode === "pages" ? /does not add up/ : /larger than|more than \d+ JSON values/;
      if (r.code === 0 || r.code === null || !clear.test(r.out))
        figures.problems.push(`${mode}: not refused clearly (exit ${r.code}): ${r.out.slice(0, 300)}`);
      else if (extra > EXTRA_MB)
        figures.problems.push(`${mode}: used ${extra.toFixed(0)} MB more than the honest run`);
      else if (mode === "pages" && proxy.state.listCalls > 10)
        figures.problems.push(`pages: ${proxy.state.listCalls} list requests for a total of 3 items`);
      else figures.refused += 1;
    }
  } finally {
    await proxy.close();
    await sim.close();
    await t.cleanup();
  }
  return figures;
}
