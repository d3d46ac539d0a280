/**
 * `npm run pack:checksums -- DIR`: (re)writes DIR/checksums.txt for pack authors, in `sha256sum`
 * format, over every file of the pack except checksums.txt itself.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHECKSUMS_FILE, renderChecksums } from "../src/domain/pack/checksums.js";
import { loadPackDir } from "../src/packs/archive.js";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: npm run pack:checksums -- PACK_DIR");
  process.exit(2);
}
try {
  const { files } = loadPackDir(dir);
  files.delete(CHECKSUMS_FILE);
  const text = renderChecksums(files);
  writeFileSync(join(dir, CHECKSUMS_FILE), text);
  console.log(`wrote ${join(dir, CHECKSUMS_FILE)} (${files.size} files)`);
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
