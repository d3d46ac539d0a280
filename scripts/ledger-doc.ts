/** `npm run docs:ledger`: writes the fidelity ledger into docs/host-compatibility.md (a test keeps it current). */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/util/paths.js";
import { renderLedger } from "../tests/contract/ledger-rows.js";

const path = join(projectRoot(), "docs", "host-compatibility.md");
const doc = readFileSync(path, "utf8");
const block = `<!-- ledger:start -->\n${renderLedger()}\n<!-- ledger:end -->`;
const next = /<!-- ledger:start -->[\s\S]*?<!-- ledger:end -->/.test(doc)
  ? doc.replace(/<!-- ledger:start -->[\s\S]*?<!-- ledger:end -->/, () => block)
  : doc;
if (next === doc && !doc.includes(block)) throw new Error("docs/host-compatibility.md has no ledger markers");
writeFileSync(path, next);
console.log("wrote the ledger into docs/host-compatibility.md");
