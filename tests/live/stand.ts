import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeUpstreams, fakeProvidersFromPack } from "./fake-upstream.js";
import type { LiveHost } from "./host-admin.js";
import { writeVerifiedCalls } from "./live-env.js";
import { SHIPPED_PACK, writeLivePack } from "./live-pack.js";

/**
 * What one live test runs relay with: a state directory of its own (`relay.db`, the host-call
 * trace `calls.jsonl`, the admin key as `admin.key`, the live pack under `pack/`), the environment
 * pointing at it, and loopback fake upstreams the pack's base URLs name.
 */
export interface LiveStand {
  dir: string;
  env: Record<string, string>;
  ups: FakeUpstreams;
}

/** `seed` fills the test's master key, so no two tests share one. */
export async function openStand(live: LiveHost, label: string, seed: number): Promise<LiveStand> {
  const dir = mkdtempSync(join(tmpdir(), `relay-live-${label}-`));
  const env = {
    RELAY_DB_PATH: join(dir, "relay.db"),
    RELAY_MASTER_KEY: Buffer.alloc(32, seed).toString("base64"),
    RELAY_ALLOW_LOOPBACK_UPSTREAMS: "1",
    RELAY_LOG_LEVEL: "warn",
    RELAY_HOST_CALL_TRACE: join(dir, "calls.jsonl"),
  };
  const ups = await FakeUpstreams.start(fakeProvidersFromPack(SHIPPED_PACK));
  writeLivePack(join(dir, "pack"), ups);
  writeFileSync(join(dir, "admin.key"), live.adminKey, { mode: 0o600 });
  return { dir, env, ups };
}

/**
 * Records which host calls the build answered (`test-artifacts/live/<record>.json`, the "verified
 * live" record), stops the fake upstreams and removes the directory. Safe when `openStand` failed.
 */
export async function closeStand(
  stand: { dir?: string | undefined; ups?: FakeUpstreams | undefined },
  record: string,
): Promise<void> {
  if (stand.dir) writeVerifiedCalls(join(stand.dir, "calls.jsonl"), record);
  await stand.ups?.stop();
  if (stand.dir) rmSync(stand.dir, { recursive: true, force: true });
}
