/**
 * The test gate's fixture: tests that must fail. They run only under `npm run test:gate`
 * (RELAY_GATE_FIXTURE=1), which checks that vitest, with this repository's own config and global
 * setup, exits non-zero on each kind of failure: a failed assertion, a thrown error and a time-out.
 * In the ordinary suite they are skipped.
 */
import { describe, expect, it } from "vitest";

const kind = process.env.RELAY_GATE_FIXTURE;

describe.runIf(kind === "assertion")("gate fixture: failed assertion", () => {
  it("fails an assertion", () => {
    expect(1).toBe(2);
  });
});

describe.runIf(kind === "error")("gate fixture: thrown error", () => {
  it("throws", () => {
    throw new Error("deliberate error from the gate fixture");
  });
});

describe.runIf(kind === "timeout")("gate fixture: time-out", () => {
  // A promise that never settles times out whatever the machine's speed.
  it("never finishes", { timeout: 200 }, () => new Promise<void>(() => {}));
});
