/**
 * `npm run test:reliability`: the reliability and security suites at full size, with figures.
 * Fails (exit 1) when any orphan, lost record or leaked secret is found, or any input was not
 * refused cleanly.
 */
import { crashSuite, faultSuite, hostileSuite, SecretLedger } from "./suite.js";

const FAULT_OPERATIONS = Number(process.env.RELIABILITY_FAULT_OPS ?? 220);
const CRASH_POINTS = Number(process.env.RELIABILITY_CRASH_POINTS ?? 110);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);

const ledger = new SecretLedger();
const t0 = performance.now();
process.stdout.write(`fault suite: ${FAULT_OPERATIONS} operations under injected faults (seed ${SEED})…\n`);
const faults = await faultSuite(FAULT_OPERATIONS, SEED, ledger);
process.stdout.write(`crash suite: ${CRASH_POINTS} SIGKILL points during imports and rollbacks…\n`);
const crashes = await crashSuite(CRASH_POINTS, SEED + 1, ledger);
process.stdout.write("hostile input suite…\n");
const hostile = await hostileSuite(ledger);
const secrets = ledger.scan();

const orphans = faults.orphans + faults.aliveAfterRollback + crashes.orphans;
const lost = faults.lostRecords + crashes.lostRecords;
const unfinished = faults.unfinished + crashes.unfinished;
const rows: [string, number][] = [
  ["operations under faults", faults.operations],
  ["  of which failed or rolled back (then settled)", faults.failedOperations],
  ["crash points tried", crashes.crashPoints],
  ["  of which killed mid-way", crashes.killed],
  ["hostile inputs tried", hostile.tried],
  ["  refused cleanly, nothing changed", hostile.refused],
  ["duplicate creates on the host", faults.duplicateCreates],
  ["batches left unfinished", unfinished],
  ["orphans found", orphans],
  ["records lost", lost],
  ["secrets found", secrets.found],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\nreliability summary (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
const problems = [...faults.problems, ...crashes.problems, ...hostile.problems, ...secrets.where];
for (const p of problems.slice(0, 30)) process.stdout.write(`  ✘ ${p}\n`);
const failed =
  orphans +
  lost +
  secrets.found +
  unfinished +
  faults.duplicateCreates +
  (hostile.tried - hostile.refused) +
  problems.length;
const checks = 7;
process.stdout.write(`${checks - (failed > 0 ? 1 : 0)} passed, ${failed > 0 ? 1 : 0} failed\n`);
if (failed > 0) process.exitCode = 1;
