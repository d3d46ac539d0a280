#!/usr/bin/env node
/**
 * `npm run test:gate`: proves the test command can fail. Runs the deliberately failing fixture
 * tests (tests/gate/) through vitest with this repository's own config and global setup, on each
 * store, and fails unless every run exits non-zero and reports its failure. A test setup that ends
 * the process itself (an exit hook, a process.exit in a global setup) would make these runs exit 0;
 * this gate then fails the whole `npm test`.
 */
import { spawnSync } from "node:child_process";

const kinds = ["assertion", "error", "timeout"];
const stores = ["sqlite", "postgres"];
const problems = [];
for (const store of stores) {
  for (const kind of kinds) {
    const env = {
      ...process.env,
      RELAY_GATE_FIXTURE: kind,
      RELAY_TEST_STORE: store,
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    };
    if (store === "sqlite") delete env.RELAY_TEST_STORE;
    const run = spawnSync("npx", ["vitest", "run", "tests/gate/", "--reporter=default"], {
      env,
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are stripped before matching
    const out = `${run.stdout ?? ""}${run.stderr ?? ""}`.replace(/\u001b\[[0-9;]*m/g, "");
    const reportedFailure = /Tests\s+1 failed/.test(out);
    const verdict = run.status !== 0 && reportedFailure ? `exit ${run.status} (as it must)` : "WRONG";
    process.stdout.write(`test gate: ${store} store, ${kind} fixture → ${verdict}\n`);
    if (run.status === 0 || run.status === null || !reportedFailure) {
      problems.push(
        `${store}/${kind}: exit ${run.status ?? run.signal}, failure reported: ${reportedFailure}\n${out.slice(-3000)}`,
      );
    }
  }
}
if (problems.length > 0) {
  process.stderr.write(
    `test gate FAILED: a deliberately failing test did not fail the runner.\n${problems.join("\n---\n")}\n`,
  );
  process.exit(1);
}
process.stdout.write("test gate: every deliberately failing run exited non-zero\n");
