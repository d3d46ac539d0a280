import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/util/paths.js";
import type { LiveHost } from "./host-admin.js";

/**
 * The real host the live suite runs against, from the environment: RELAY_LIVE_BASE_URL (the
 * sub2api root, e.g. http://127.0.0.1:8080) and the admin API key in RELAY_LIVE_ADMIN_KEY or in
 * the file RELAY_LIVE_ADMIN_KEY_FILE. Undefined when no host is given.
 */
export function liveHostFromEnv(env: NodeJS.ProcessEnv = process.env): LiveHost | undefined {
  const baseUrl = env.RELAY_LIVE_BASE_URL?.trim().replace(/\/+$/, "");
  if (!baseUrl) return undefined;
  const file = env.RELAY_LIVE_ADMIN_KEY_FILE?.trim();
  const adminKey = (file ? readFileSync(file, "utf8") : (env.RELAY_LIVE_ADMIN_KEY ?? "")).trim();
  if (!adminKey) {
    throw new Error(
      "RELAY_LIVE_BASE_URL is set but no admin key: set RELAY_LIVE_ADMIN_KEY or RELAY_LIVE_ADMIN_KEY_FILE",
    );
  }
  return { baseUrl, adminKey };
}

/**
 * Summarises a RELAY_HOST_CALL_TRACE file: each host operation with how often the build answered
 * it with success and with an error, written to test-artifacts/live/<version>.json.
 */
export function writeVerifiedCalls(traceFile: string, version: string): void {
  if (!existsSync(traceFile)) return;
  const counts = new Map<string, { ok: number; error: number }>();
  for (const line of readFileSync(traceFile, "utf8").split("\n")) {
    if (!line) continue;
    const { operation, outcome } = JSON.parse(line) as { operation: string; outcome: string };
    const c = counts.get(operation) ?? { ok: 0, error: 0 };
    if (outcome === "ok") c.ok += 1;
    else c.error += 1;
    counts.set(operation, c);
  }
  const out = join(projectRoot(), "test-artifacts", "live");
  mkdirSync(out, { recursive: true });
  const operations = Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(
    join(out, `${version.replace(/[^0-9A-Za-z._-]/g, "_")}.json`),
    `${JSON.stringify({ version, date: new Date().toISOString(), operations }, null, 2)}\n`,
  );
}
