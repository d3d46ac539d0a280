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
  const t = makeTestEnv();
  const sim = await startSimulator(simOptions);
  await installPack(t.ctx, { kind: "path", path: join(projectRoot(), "packs", "openai-cn-pack") });
  const host = await addHost(t.ctx, { name: "sim", baseUrl: sim.url, adminKey: sim.sim.state.adminApiKey });
  return {
    t,
    sim,
    hostId: host.host_id,
    async close() {
      await sim.close();
      t.cleanup();
    },
  };
}

/** A key that matches DeepSeek's key_pattern. */
export function deepseekKey(): string {
  return `sk-${randomBytes(16).toString("hex")}`;
}

/** Live resources on the simulated host that carry relay's ownership tag for this batch. */
export function liveOnHost(sim: RunningSim, batchId?: string) {
  const ours = (text: string) =>
    text.includes("managed-by=sub2api-cn-relay-manager") && (!batchId || text.includes(`batch=${batchId}`));
  const s = sim.sim.state;
  return {
    groups: s.liveGroups().filter((g) => ours(g.description)),
    accounts: s.liveAccounts().filter((a) => ours(a.notes)),
    channels: [...s.channels.values()].filter((c) => ours(c.description)),
    plans: [...s.plans.values()].filter((p) => ours(p.description)),
    subscriptions: [...s.subscriptions.values()].filter((x) => x.status === "active" && ours(x.notes)),
  };
}

export function liveCount(sim: RunningSim, batchId?: string): number {
  const l = liveOnHost(sim, batchId);
  return l.groups.length + l.accounts.length + l.channels.length + l.plans.length + l.subscriptions.length;
}
