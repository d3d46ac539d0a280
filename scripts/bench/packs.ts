/**
 * Pack benchmarks (`npm run bench`):
 * 1. install a generated 200-provider pack (target < 1 s);
 * 2. refuse a zip that declares 1 GiB of uncompressed data (target < 1 s, < 64 MB extra memory),
 *    measured in a fresh child process so the peak RSS belongs to the refusal alone.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, createDeflateRaw } from "node:zlib";
import { createContext } from "../../src/app/context.js";
import { loadConfig } from "../../src/config/index.js";
import { loadPack } from "../../src/packs/archive.js";
import { installPack } from "../../src/packs/packs.js";
import { closeDb, openDb } from "../../src/store/db.js";
import { createLogger } from "../../src/util/logger.js";
import { writeSignedPack } from "../../tests/fixtures/packs/write.js";
import { writeZip } from "../../tests/fixtures/packs/zip-writer.js";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target: number;
  /** The figure must reach the target (a speed-up), not stay under it. */
  atLeast?: boolean;
  ok: boolean;
}

function generatePack(dir: string, providers: number) {
  const files = new Map<string, Buffer>();
  files.set(
    "pack.json",
    Buffer.from(
      JSON.stringify({
        schema_version: 1,
        pack_id: "bench-pack",
        name: "Benchmark pack",
        version: "1.0.0",
        description: "generated",
        host: { app: "sub2api", version_range: ">=0.1.0" },
      }),
    ),
  );
  files.set("README.md", Buffer.from("# bench\n"));
  for (let i = 0; i < providers; i++) {
    const id = `bench-provider-${i}`;
    files.set(
      `providers/${id}.json`,
      Buffer.from(
        JSON.stringify({
          provider_id: id,
          display_name: `Bench ${i}`,
          base_url: `https://api-${i}.bench.example/v1`,
          platforms: { preferred: "openai", fallback: "openai" },
          api_protocol: "chat_completions",
          default_models: [`model-${i}-a`, `model-${i}-b`],
          smoke_test_model: `model-${i}-a`,
          key_pattern: "^sk-[a-z0-9]{32}$",
          account_defaults: { concurrency: 5, priority: 50 },
          group_defaults: { subscription_type: "subscription", rate_multiplier: 1, is_exclusive: false },
          pricing: [
            { models: [`model-${i}-a`, `model-${i}-b`], input_per_million: 1, output_per_million: 2 },
          ],
        }),
      ),
    );
  }
  writeSignedPack(dir, files);
}

/** A real zip whose one entry is 1 GiB of zeros, deflated (about 1 MB on disk). */
async function writeGigabyteZip(path: string) {
  const total = 1024 * 1024 * 1024;
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on("data", (d: Buffer) => parts.push(d));
  let crc = 0;
  for (let written = 0; written < total; written += chunk.length) {
    crc = crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((r) => deflate.once("drain", r));
  }
  await new Promise((r) => deflate.end(r));
  writeFileSync(
    path,
    writeZip([{ name: "pack.json", deflated: { body: Buffer.concat(parts), crc }, declaredSize: total }]),
  );
}

export async function benchPacks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-packs-"));
  try {
    const packDir = join(dir, "pack");
    generatePack(packDir, 200);
    const db = await openDb(join(dir, "relay.db"));
    const config = loadConfig({
      RELAY_DB_PATH: join(dir, "relay.db"),
      RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    const ctx = await createContext({ db, config, logger: createLogger("silent") });
    const t0 = performance.now();
    const result = await installPack(ctx, { kind: "path", path: packDir });
    const installMs = performance.now() - t0;
    if (result.pack.providers.length !== 200) throw new Error("bench pack did not install 200 providers");
    await closeDb(db);

    const zipPath = join(dir, "gigabyte.zip");
    await writeGigabyteZip(zipPath);
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--refuse", zipPath], {
      encoding: "utf8",
    });
    if (child.status !== 0) throw new Error(`refusal child failed: ${child.stderr}`);
    const refusal = JSON.parse(child.stdout) as { ms: number; extraRssMb: number; code: string };
    if (refusal.code !== "ENTRY_TOO_LARGE") throw new Error(`1 GiB zip refused with ${refusal.code}`);

    return [
      {
        name: "install a 200-provider pack",
        value: installMs,
        unit: "ms",
        target: 1000,
        ok: installMs < 1000,
      },
      {
        name: "refuse a zip declaring 1 GiB: time",
        value: refusal.ms,
        unit: "ms",
        target: 1000,
        ok: refusal.ms < 1000,
      },
      {
        name: "refuse a zip declaring 1 GiB: extra peak RSS",
        value: refusal.extraRssMb,
        unit: "MB",
        target: 64,
        ok: refusal.extraRssMb < 64,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function refuseChild(zipPath: string) {
  const before = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  let code = "ACCEPTED";
  try {
    await loadPack(zipPath);
  } catch (err) {
    code = (err as { code?: string }).code ?? "ERROR";
  }
  const ms = performance.now() - t0;
  const extraRssMb = (process.resourceUsage().maxRSS - before) / 1024;
  process.stdout.write(JSON.stringify({ ms, extraRssMb, code }));
}

if (process.argv[2] === "--refuse" && process.argv[3]) await refuseChild(process.argv[3]);
