import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { addHost } from "../../src/hosts/hosts.js";
import { installPack } from "../../src/packs/packs.js";
import { projectRoot } from "../../src/util/paths.js";
import type { CreateSimOptions } from "../sim/sub2api/server.js";
import { type RunningSim, startSimulator } from "../sim/sub2api/server.js";
import { makeTestEnv, type TestEnv } from "./context.js";

export interface World {
  t: TestEnv;
  sim: RunningSim;
  hostId: string;
  close(): Promise<void>;
}

/** A test database with the shipped pack installed and a simulated host registered. */
export async function makeWorld(simOptions: CreateSimOptions = {}): Promise<World> {
  const t = await makeTestEnv();
  const sim = await startSimulator(simOptions);
  await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
  const host = await addHost(t.ctx, { name: "sim", baseUrl: sim.url, adminKey: sim.sim.state.adminApiKey });
  return {
    t,
    sim,
    hostId: host.host_id,
    async close() {
      await sim.close();
      await t.cleanup();
    },
  };
}

/** A key that matches DeepSeek's key_pattern. */
export function deepseekKey(): string {
  return `sk-${randomBytes(16).toString("hex")}`;
}

const TAG = "managed-by=sub2api-cn-relay-manager";
/** A name relay gives: `relay-<provider>-<install>-g<n>` or `<provider>-<key8>-<install>[-g<n>]`. */
const MARKED = /^(relay-[a-z0-9-]+-[0-9a-f]{8}-g\d+|[a-z0-9][a-z0-9-]*-[0-9a-f]{8}-[0-9a-f]{8}(-g\d+)?)$/;

/**
 * Live resources on the simulated host that relay made (for this batch), judged from the host
 * alone: the tag in notes/description where the build keeps it, the marker in the name where it
 * does not (Dec 2025 accounts have no notes).
 */
export function liveOnHost(sim: RunningSim, batchId?: string) {
  const ours = (name: string, text: string) =>
    text.includes(TAG) ? !batchId || text.includes(`batch=${batchId}`) : MARKED.test(name);
  const s = sim.sim.state;
  return {
    groups: s.liveGroups().filter((g) => ours(g.name, g.description)),
    accounts: s.liveAccounts().filter((a) => ours(a.name, a.notes)),
    channels: [...s.channels.values()].filter((c) => ours(c.name, c.description)),
    plans: [...s.plans.values()].filter((p) => ours(p.name, p.description)),
    subscriptions: [...s.subscriptions.values()].filter(
      (x) =>
        x.status === "active" && x.notes.includes(TAG) && (!batchId || x.notes.includes(`batch=${batchId}`)),
    ),
  };
}

export function liveCount(sim: RunningSim, batchId?: string): number {
  const l = liveOnHost(sim, batchId);
  return l.groups.length + l.accounts.length + l.channels.length + l.plans.length + l.subscriptions.length;
}
