import { describe, expect, it } from "vitest";
import { healChannelKill, healChannelLostAnswers, lookAlikeAccounts } from "../reliability/heal-saga.js";
import { emptyFigures, makeProxiedWorld } from "../reliability/lost-answers.js";
import { SecretLedger } from "../reliability/suite.js";

/**
 * The fast subset of the heal scenarios of `npm run test:reliability` (#29 R1, R4), on every host
 * profile relay writes to; each judged from the simulator's state.
 */
describe("heal as a saga, adoption only of relay's own unresolved creates", () => {
  for (const profile of ["v0.1.179", "v0.1.150", "v0.1.178"] as const) {
    it(`${profile}: heal's channel re-create under every lost answer and a kill after sending leaves nothing live after rollback; an operator's look-alike account survives --heal and rollback`, async () => {
      const ledger = new SecretLedger();
      const w = await makeProxiedWorld(profile, ledger);
      const f = emptyFigures(profile);
      try {
        await healChannelLostAnswers(w, f, ledger, ["drop", "503", "hang", "late", "refuse"]);
        await healChannelKill(w, f, ledger, "drop");
        await healChannelKill(w, f, ledger, "refuse");
        await lookAlikeAccounts(w, f, ledger);
        ledger.fromSim(w.sim, w.t.dir);
      } finally {
        await w.close();
      }
      expect(f.problems).toEqual([]);
      expect(f).toMatchObject({ orphans: 0, foreignTouched: 0, recordsLost: 0 });
      expect(f.lostAnswerScenarios).toBe(5);
      expect(f.killPoints).toBe(2);
      expect(ledger.scan().where).toEqual([]);
    }, 240_000);
  }
});
