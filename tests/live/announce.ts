/**
 * vitest global setup of the live suite: says loudly, before and after the run, whether a real
 * host was given. A live run without a host is skipped, never reported as a pass of the host.
 */
import { liveHostFromEnv } from "./live-env.js";

const banner = (lines: string[]) => {
  const bar = "!".repeat(78);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join("\n")}\n${bar}\n\n`);
};

export default function setup(): () => void {
  const host = liveHostFromEnv();
  const say = () =>
    host
      ? process.stderr.write(`live suite: against the real sub2api at ${host.baseUrl}\n`)
      : banner([
          "LIVE SUITE SKIPPED: no sub2api host was given.",
          "Set RELAY_LIVE_BASE_URL (the host's root URL) and RELAY_LIVE_ADMIN_KEY or",
          "RELAY_LIVE_ADMIN_KEY_FILE (an admin API key) to run it; see docs/host-compatibility.md.",
        ]);
  say();
  return say;
}
