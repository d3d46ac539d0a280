import { describe, expect, it } from "vitest";
import { onPostgres } from "../helpers/postgres.js";
import { restoreScenario } from "../reliability/restore.js";
import { SecretLedger } from "../reliability/suite.js";

/** `npm run test:reliability`'s restore scenario (#29 R9); the SQLite file restore, so SQLite only. */
describe.skipIf(onPostgres)("after the documented restore of an older database", () => {
  it("relay finds what its install made after the backup and offers to adopt it; rollback never deletes a group under live accounts; after --heal and both rollbacks the host is clean", async () => {
    const ledger = new SecretLedger();
    const f = await restoreScenario(ledger);
    expect(f.problems).toEqual([]);
    expect(f).toMatchObject({ tried: 1, refused: 1 });
    expect(ledger.scan().where).toEqual([]);
  }, 240_000);
});
