import { readFileSync } from "node:fs";
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
