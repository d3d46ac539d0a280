import type { ProfileName } from "../sim/sub2api/profiles.js";
import { healChannelKill, healChannelLostAnswers, lookAlikeAccounts } from "./heal-saga.js";
import {
  emptyFigures,
  lostAnswerScenarios,
  makeProxiedWorld,
  type OwnershipSizes,
  type ProfileFigures,
} from "./lost-answers.js";
import { concurrentRounds, killPoints, randomSequences, secondInstall } from "./ownership-suite.js";
import { SecretLedger } from "./suite.js";

// Profiles on which relay writes (on dec-2025 and v0.1.126 every import is refused before a write);
// v0.1.178 has CN platforms whose account test is broken, so relay writes there through the fallback.
export const PROFILES: ProfileName[] = ["v0.1.179", "v0.1.150", "v0.1.178"];

/** Everything of the ownership suite on one host profile, with its own secret ledger. */
export async function ownershipSuite(
  profile: ProfileName,
  sizes: OwnershipSizes,
): Promise<ProfileFigures & { secrets: number }> {
  const ledger = new SecretLedger();
  const w = await makeProxiedWorld(profile, ledger);
  const f = emptyFigures(profile);
  try {
    await lostAnswerScenarios(w, f, ledger, {
      routes: sizes.routes,
      modes: sizes.modes,
      importModes: sizes.importModes,
    });
    if (sizes.heal) {
      // Heal's channel re-create under every lost answer and a kill after sending; look-alikes.
      await healChannelLostAnswers(w, f, ledger, [...sizes.modes, "refuse"]);
      await healChannelKill(w, f, ledger, "drop");
      await healChannelKill(w, f, ledger, "refuse");
      await lookAlikeAccounts(w, f, ledger);
    }
    await killPoints(w, f, ledger, {
      importModes: sizes.importModes,
      variants: sizes.killVariants,
      maxPoints: sizes.maxKillPoints,
    });
    await concurrentRounds(w, f, ledger, sizes.concurrentRounds);
    await secondInstall(w, f, ledger);
    try {
      await randomSequences(w, f, ledger, {
        runs: sizes.sequences,
        seed: sizes.seed,
        maxLength: sizes.sequenceLength,
      });
    } catch (err) {
      f.problems.push(`${profile} random sequences: ${String(err).slice(0, 2000)}`);
    }
    ledger.fromSim(w.sim, w.t.dir);
  } finally {
    await w.close();
  }
  const secrets = ledger.scan();
  f.problems.push(...secrets.where.map((x) => `${profile} secret: ${x}`));
  return { ...f, secrets: secrets.found };
}
