import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../../src/util/paths.js";
import { writeSignedPack } from "../fixtures/packs/write.js";
import type { RunningSim } from "../sim/sub2api/server.js";

export const DEEPSEEK = "https://api.deepseek.com";
/** The model the upgraded pack retires, and what replaces it. */
export const OLD = "deepseek-v4-pro";
export const NEW = "deepseek-flash";

function readTree(dir: string, root = dir, out = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) readTree(path, root, out);
    else out.set(relative(root, path).split("\\").join("/"), readFileSync(path));
  }
  return out;
}

/**
 * The shipped pack as version 1.3.0, in which DeepSeek retires deepseek-v4-pro with
 * deepseek-flash as its replacement (no longer a default model, no price of its own).
 */
export function writeUpgradedPack(dir: string): void {
  const files = readTree(join(projectRoot(), "packs", "openai-cn-pack"));
  const manifest = JSON.parse(String(files.get("pack.json")));
  files.set("pack.json", Buffer.from(JSON.stringify({ ...manifest, version: "1.3.0" }, null, 2)));
  const ds = JSON.parse(String(files.get("providers/deepseek.json")));
  ds.default_models = ds.default_models.filter((m: string) => m !== OLD);
  ds.pricing = ds.pricing.filter((p: { models: string[] }) => !p.models.includes(OLD));
  ds.model_lifecycle[OLD] = { retired_at: "2026-12-01", replacement: NEW, source: "test: a later pack" };
  // What replaced the old model's predecessor moves on with it.
  for (const entry of Object.values(ds.model_lifecycle) as { replacement?: string }[])
    if (entry.replacement === OLD) entry.replacement = NEW;
  files.set("providers/deepseek.json", Buffer.from(JSON.stringify(ds, null, 2)));
  writeSignedPack(dir, files);
}

/** What the host holds of relay's DeepSeek resources' mappings: the accounts' credentials, the channels' model_mapping and model_pricing. */
export function mappingSnapshot(sim: RunningSim) {
  const s = sim.sim.state;
  return {
    accounts: Object.fromEntries(
      s
        .liveAccounts()
        .filter((a) => a.platform === "deepseek")
        .map((a) => [a.id, structuredClone(a.credentials)]),
    ),
    channels: Object.fromEntries(
      [...s.channels.values()].map((c) => [c.id, structuredClone(c.modelMapping)]),
    ),
    // The entries' own ids are the host's: a PUT of model_pricing replaces them with new rows.
    pricing: Object.fromEntries(
      [...s.channels.values()].map((c) => [
        c.id,
        c.modelPricing.map(({ id: _id, ...p }) => structuredClone(p)),
      ]),
    ),
  };
}

/** A user's own call through the host's gateway, with the key the probe user holds for the group. */
export async function userCall(sim: RunningSim, model: string): Promise<{ status: number; text: string }> {
  const key = sim.sim.state.liveKeys().find((k) => k.groupId !== null);
  if (!key) throw new Error("no user key bound to a group on the simulator");
  const res = await fetch(`${sim.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: res.status, text: await res.text() };
}
