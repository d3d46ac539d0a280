import { describe, expect, it } from "vitest";
import { hostileRound2 } from "../reliability/hostile-round2.js";
import { WRITE_ROUTES } from "../reliability/lost-answers.js";
import { ownershipSuite } from "../reliability/ownership-run.js";
import { crashSuite, faultSuite, hostileSuite, SecretLedger } from "../reliability/suite.js";

/** The fast subset of `npm run test:reliability` that runs with every `npm test`. */
describe("reliability and security (fast subset)", () => {
  const ledger = new SecretLedger();

  it("imports, rollbacks and reconciles under injected faults leave no orphan and no unfinished batch", async () => {
    const f = await faultSuite(12, 11, ledger);
    expect(f.problems).toEqual([]);
    expect(f).toMatchObject({
      orphans: 0,
      lostRecords: 0,
      unfinished: 0,
      aliveAfterRollback: 0,
      duplicateCreates: 0,
    });
    expect(f.failedOperations).toBeGreaterThan(0); // the faults did bite
  }, 120_000);

  it("SIGKILL during imports and rollbacks, then recovery: no orphan, no lost record", async () => {
    const c = await crashSuite(5, 5, ledger);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ orphans: 0, lostRecords: 0, unfinished: 0 });
  }, 120_000);

  it("every hostile input is refused with a clear error and changes nothing", async () => {
    const h = await hostileSuite(ledger);
    expect(h.problems).toEqual([]);
    expect(h.tried).toBeGreaterThanOrEqual(100);
    expect(h.refused).toBe(h.tried);
  }, 120_000);

  it("hostile packs, hosts, files and callers (round 2) are refused within 100 MB, leaking nothing", async () => {
    // The 1 s bound is a performance figure: `npm run test:reliability` holds to it on a quiet
    // machine. Here the verdict must not depend on the machine's load, so time is not judged
    // (each hostile input is still killed, and counted as not refused, after 10 s).
    const h = await hostileRound2(ledger, Number.POSITIVE_INFINITY);
    expect(h.problems).toEqual([]);
    expect(h.tried).toBeGreaterThanOrEqual(70);
    expect(h.refused).toBe(h.tried);
  }, 240_000);

  it("no provider key, admin token or probe password appears in any output, log or state file", () => {
    expect(ledger.secrets.size).toBeGreaterThan(20);
    expect(ledger.scan().where).toEqual([]);
  });
});

describe("faults where the host acts (fast subset of the ownership suite)", () => {
  const routes = WRITE_ROUTES.filter((r) =>
    [
      "group create",
      "account batch create",
      "account create",
      "subscription assign",
      "probe key create",
      "group delete",
    ].includes(r.name),
  );
  for (const profile of ["cn-native", "openai-compat"] as const) {
    it(`${profile}: lost answers, kill points, concurrent imports, a second install and random sequences leave the host clean`, async () => {
      const f = await ownershipSuite(profile, {
        routes,
        modes: ["drop", "late"],
        importModes: ["strict"],
        killVariants: ["drop"],
        maxKillPoints: 3,
        concurrentRounds: 1,
        sequences: 3,
        sequenceLength: 5,
        seed: 7,
      });
      expect(f.problems).toEqual([]);
      expect(f).toMatchObject({ orphans: 0, foreignTouched: 0, recordsLost: 0, secrets: 0 });
      expect(f.lostAnswerScenarios).toBeGreaterThanOrEqual(8);
      expect(f.killPoints).toBe(6);
      expect(f.randomSequences).toBe(3);
    }, 240_000);
  }
});
