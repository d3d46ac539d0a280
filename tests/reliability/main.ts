/**
 * `npm run test:reliability`: the reliability and security suites at full size, with figures.
 * Fails (exit 1) when any orphan, lost record or leaked secret is found, or any input was not
 * refused cleanly.
 */
import { startPostgresServer } from "../helpers/pg-server.js";
import { hostileLists } from "./hostile-lists.js";
import { hostileRound2 } from "./hostile-round2.js";
import { WRITE_ROUTES } from "./lost-answers.js";
import { ownershipSuite, PROFILES } from "./ownership-run.js";
import { restoreScenario } from "./restore.js";
import { crashSuite, faultSuite, hostileSuite, SecretLedger } from "./suite.js";

const FAULT_OPERATIONS = Number(process.env.RELIABILITY_FAULT_OPS ?? 220);
const CRASH_POINTS = Number(process.env.RELIABILITY_CRASH_POINTS ?? 110);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);

// RELAY_TEST_STORE=postgres (`npm run test:reliability:postgres`): the same suites on PostgreSQL,
// on RELAY_TEST_DATABASE_URL or a server started here.
const pgServer =
  process.env.RELAY_TEST_STORE === "postgres" && !process.env.RELAY_TEST_DATABASE_URL
    ? await startPostgresServer()
    : undefined;
if (pgServer) process.env.RELAY_TEST_DATABASE_URL = pgServer.url;
process.stdout.write(`store: ${process.env.RELAY_TEST_STORE === "postgres" ? "PostgreSQL" : "SQLite"}\n`);

const ledger = new SecretLedger();
const t0 = performance.now();
process.stdout.write(`fault suite: ${FAULT_OPERATIONS} operations under injected faults (seed ${SEED})…\n`);
const faults = await faultSuite(FAULT_OPERATIONS, SEED, ledger);
process.stdout.write(`crash suite: ${CRASH_POINTS} SIGKILL points during imports and rollbacks…\n`);
const crashes = await crashSuite(CRASH_POINTS, SEED + 1, ledger);
process.stdout.write("hostile input suite…\n");
const hostile1 = await hostileSuite(ledger);
process.stdout.write(
  "hostile input suite, round 2 (packs, hosts, files, callers; each bounded in time and memory)…\n",
);
const hostile2 = await hostileRound2(ledger);
process.stdout.write(
  "hostile host lists (endless, densely packed, 10^7 announced pages; memory is the verdict)…\n",
);
const hostile3 = await hostileLists(ledger);
process.stdout.write(
  `  extra MB ${JSON.stringify(hostile3.extraMb)}, list requests for 10^7 pages: ${hostile3.listCalls}\n`,
);
process.stdout.write("restore of an older database: found, offered, adopted, rolled back…\n");
const restored = process.env.RELAY_TEST_STORE === "postgres" ? undefined : await restoreScenario(ledger);
const hostile = {
  tried: hostile1.tried + hostile2.tried + hostile3.tried + (restored?.tried ?? 0),
  refused: hostile1.refused + hostile2.refused + hostile3.refused + (restored?.refused ?? 0),
  problems: [...hostile1.problems, ...hostile2.problems, ...hostile3.problems, ...(restored?.problems ?? [])],
};
const secrets = ledger.scan();

// The real fault model, per host profile: answers lost after the host acted, kill points at every
// write, concurrent processes, a second installation, random sequences (fast-check).
const SEQUENCES = Number(process.env.RELIABILITY_SEQUENCES ?? 70);
const ownership: Awaited<ReturnType<typeof ownershipSuite>>[] = [];
for (const profile of PROFILES) {
  process.stdout.write(
    `ownership suite on ${profile}: lost answers, kill points, concurrency, random sequences…\n`,
  );
  ownership.push(
    await ownershipSuite(profile, {
      routes: WRITE_ROUTES,
      modes: ["drop", "503", "hang", "late"],
      importModes: ["strict", "partial"],
      killVariants: ["refuse", "drop"],
      maxKillPoints: 30,
      concurrentRounds: 3,
      sequences: SEQUENCES,
      sequenceLength: 8,
      seed: SEED,
      heal: true,
    }),
  );
}

const sum = (k: "orphans" | "foreignTouched" | "recordsLost" | "secrets") =>
  ownership.reduce((n, f) => n + f[k], 0);
const orphans = faults.orphans + faults.aliveAfterRollback + crashes.orphans + sum("orphans");
const lost = faults.lostRecords + crashes.lostRecords + sum("recordsLost");
const unfinished = faults.unfinished + crashes.unfinished;
const rows: [string, number][] = [
  ["operations under faults", faults.operations],
  ["  of which failed or rolled back (then settled)", faults.failedOperations],
  ["crash points tried", crashes.crashPoints],
  ["  of which killed mid-way", crashes.killed],
  ["hostile inputs tried", hostile.tried],
  ["  handled cleanly (refused with nothing changed, or shown safely)", hostile.refused],
  ["duplicate creates on the host", faults.duplicateCreates],
  ["batches left unfinished", unfinished],
  ["orphans found", orphans],
  ["records lost", lost],
  ["secrets found", secrets.found],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\nreliability summary (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
process.stdout.write("\nper host profile (faults where the host acts)\n");
for (const f of ownership) {
  process.stdout.write(
    `  ${f.profile.padEnd(14)} lost-answer scenarios ${f.lostAnswerScenarios}, kill points ${f.killPoints}, ` +
      `concurrent-import rounds ${f.concurrentRounds}, random sequences ${f.randomSequences}: ` +
      `orphans ${f.orphans}, foreign resources touched ${f.foreignTouched}, records lost ${f.recordsLost}, secrets ${f.secrets}\n`,
  );
}
const totals = {
  lostAnswers: ownership.reduce((n, f) => n + f.lostAnswerScenarios, 0),
  killPoints: ownership.reduce((n, f) => n + f.killPoints, 0),
  sequences: ownership.reduce((n, f) => n + f.randomSequences, 0),
};
process.stdout.write(
  `  ${"all profiles".padEnd(14)} lost-answer scenarios ${totals.lostAnswers}, kill points ${totals.killPoints}, random sequences ${totals.sequences}\n`,
);
const problems = [
  ...faults.problems,
  ...crashes.problems,
  ...hostile.problems,
  ...secrets.where,
  ...ownership.flatMap((f) => f.problems),
];
for (const p of problems.slice(0, 30)) process.stdout.write(`  ✘ ${p}\n`);
const failed =
  orphans +
  lost +
  secrets.found +
  sum("secrets") +
  sum("foreignTouched") +
  unfinished +
  faults.duplicateCreates +
  (hostile.tried - hostile.refused) +
  problems.length;
const checks = 7;
process.stdout.write(`${checks - (failed > 0 ? 1 : 0)} passed, ${failed > 0 ? 1 : 0} failed\n`);
if (failed > 0) process.exitCode = 1;
await pgServer?.stop();
