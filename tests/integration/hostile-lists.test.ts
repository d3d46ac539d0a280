import { describe, expect, it } from "vitest";
import { EXTRA_MB, hostileLists } from "../reliability/hostile-lists.js";
import { SecretLedger } from "../reliability/suite.js";

/** The hostile-list cases of `npm run test:reliability` (#29 R13): they run with every `npm test`. */
describe("host lists are bounded in memory and in requests", () => {
  it(`an endless or densely packed account list costs < ${EXTRA_MB} MB extra; 10^7 announced pages for 3 items cost a few requests and a clear error`, async () => {
    const ledger = new SecretLedger();
    const f = await hostileLists(ledger);
    console.info(
      `hostile lists: extra MB ${JSON.stringify(f.extraMb)}, list requests for 10^7 pages: ${f.listCalls}`,
    );
    expect(f.problems).toEqual([]);
    expect(f).toMatchObject({ tried: 3, refused: 3 });
    expect(f.listCalls).toBeGreaterThan(1);
    expect(f.listCalls).toBeLessThanOrEqual(10);
    expect(ledger.scan().where).toEqual([]);
  }, 240_000);
});
