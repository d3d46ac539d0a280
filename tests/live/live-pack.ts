import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHECKSUMS_FILE, renderChecksums } from "../../src/domain/pack/checksums.js";
import { loadPackDir } from "../../src/packs/archive.js";
import { projectRoot } from "../../src/util/paths.js";
import type { FakeUpstreams } from "./fake-upstream.js";

/** The shipped pack, whose providers the live suite's fake upstreams imitate. */
export const SHIPPED_PACK = join(projectRoot(), "packs", "openai-cn-pack");

/**
 * Writes a copy of the shipped pack to `dir` whose base URLs name the fake upstreams (and signs
 * it again): what a test stand installs so that a real host reaches the fakes. Returns `dir`.
 */
export function writeLivePack(dir: string, ups: FakeUpstreams): string {
  cpSync(SHIPPED_PACK, dir, { recursive: true });
  for (const f of readdirSync(join(dir, "providers"))) {
    const path = join(dir, "providers", f);
    const p = JSON.parse(readFileSync(path, "utf8")) as { provider_id: string; base_url: string };
    p.base_url = ups.baseUrl(p.provider_id);
    writeFileSync(path, `${JSON.stringify(p, null, 2)}\n`);
  }
  const { files } = loadPackDir(dir);
  files.delete(CHECKSUMS_FILE);
  writeFileSync(join(dir, CHECKSUMS_FILE), renderChecksums(files));
  return dir;
}
