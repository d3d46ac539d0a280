import { describe, expect, it } from "vitest";
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

  it("no provider key, admin token or probe password appears in any output, log or state file", () => {
    expect(ledger.secrets.size).toBeGreaterThan(20);
    expect(ledger.scan().where).toEqual([]);
  });
});
