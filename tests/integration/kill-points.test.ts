import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KILL_POINTS, killAtWrite } from "../reliability/kill-at-write.js";
import { makeProxiedWorld, type ProxiedWorld } from "../reliability/lost-answers.js";
import { SecretLedger } from "../reliability/suite.js";

/** Each kill point runs this many times (RELAY_KILL_REPEATS=200 for the soak run). */
const REPEATS = Number(process.env.RELAY_KILL_REPEATS ?? 1);

describe("SIGKILL exactly at a host write of an import, the host acting after the death; then recovery and rollback (issue #23 item 4)", () => {
  const ledger = new SecretLedger();
  let w: ProxiedWorld;
  beforeAll(async () => {
    w = await makeProxiedWorld("v0.1.179", ledger);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  for (const point of KILL_POINTS) {
    it(
      `killed at ${point.name}: nothing relay made is unrecorded after recovery or live after rollback, nothing else touched`,
      async () => {
        const total = { runs: 0, unrecorded: 0, liveAfterRollback: 0, foreignTouched: 0 };
        const problems: string[] = [];
        for (let i = 0; i < REPEATS; i++) {
          const f = await killAtWrite(w, point, ledger);
          total.runs += 1;
          total.unrecorded += f.unrecorded;
          total.liveAfterRollback += f.liveAfterRollback;
          total.foreignTouched += f.foreignTouched;
          problems.push(...f.problems.map((p) => `run ${i + 1}: ${p}`));
          if (problems.length > 0) break;
        }
        if (REPEATS > 1) console.info(`${point.name}: ${JSON.stringify(total)}`);
        expect(problems).toEqual([]);
        expect(total).toEqual({ runs: REPEATS, unrecorded: 0, liveAfterRollback: 0, foreignTouched: 0 });
      },
      60_000 * REPEATS,
    );
  }

  it("leaks no secret in any output, log or state file", () => {
    ledger.fromSim(w.sim, w.t.dir);
    expect(ledger.scan().where).toEqual([]);
  });
});
