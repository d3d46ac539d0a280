import { describe, expect, it } from "vitest";
import { nextBatchState } from "../../src/domain/batch-state.js";
import {
  decideRotation,
  keyClassOf,
  pausedBy,
  type RotationCandidate,
  type RotationKey,
  resumeAfterRotation,
  rotationWaves,
} from "../../src/domain/rotation.js";

const account = (id: number, over: Partial<RotationCandidate> = {}): RotationCandidate => ({
  id,
  name: `deepseek-${id}`,
  groupId: 3,
  status: "active",
  schedulable: true,
  errorMessage: "",
  latchReason: null,
  oldKeyHash: `${id}`.padStart(64, "0"),
  ...over,
});
const key = (position: number, over: Partial<RotationKey> = {}): RotationKey => ({
  position,
  line: position + 1,
  mask: `sk-…000${position}`,
  hash: `${position}`.padStart(64, "f"),
  ready: true,
  inUseBy: null,
  ...over,
});
const revoked401 = {
  status: "error",
  schedulable: false,
  errorMessage: "returned 401: Authentication Fails",
};

describe("key rotation decisions (domain/rotation.ts)", () => {
  it("reads the key's class from the host's error, its balance pause or relay's latch", () => {
    expect(keyClassOf(account(1, revoked401))).toBe("revoked");
    expect(keyClassOf(account(1, { pauseReason: "balance below threshold" }))).toBe("balance_empty");
    expect(keyClassOf(account(1, { latchReason: "failed 3 tests in a row (balance_empty): 402" }))).toBe(
      "balance_empty",
    );
    expect(keyClassOf(account(1, { errorMessage: "returned 401" }))).toBeNull(); // active: not the host's verdict
    expect(keyClassOf(account(1))).toBeNull();
  });

  it("resumes only what relay or the host took out, never a person's pause", () => {
    expect(pausedBy(account(1, revoked401))).toBe("host");
    expect(pausedBy(account(1, { schedulable: false }))).toBe("person");
    expect(pausedBy(account(1, { schedulable: false, latchReason: "x" }))).toBe("relay");
    expect(pausedBy(account(1))).toBeNull();
    expect([
      resumeAfterRotation("host"),
      resumeAfterRotation("relay"),
      resumeAfterRotation("person"),
    ]).toEqual([true, true, false]);
  });

  it("gives ready keys in order, skips keys in use, and blocks when keys run short or an id is not relay's", () => {
    const cands = [account(2, revoked401), account(1, revoked401), account(3)];
    const keys = [key(0, { ready: false }), key(1, { inUseBy: 3 }), key(2), key(3), key(4)];
    const d = decideRotation(cands, keys, "revoked");
    expect(d.assignments.map((a) => [a.account.id, a.key?.position, a.why, a.pausedBy])).toEqual([
      [1, 2, "revoked", "host"],
      [2, 3, "revoked", "host"],
    ]);
    expect(d.spare.map((k) => k.position)).toEqual([4]);
    expect(d.blockedReasons).toEqual([]);
    const short = decideRotation(cands, [key(0)], "revoked");
    expect(short.blockedReasons).toEqual([
      "2 account(s) chosen but only 1 ready new key(s): add ready keys, or name the accounts to rotate now with --accounts ID,ID",
    ]);
    expect(decideRotation(cands, keys, [3, 9]).blockedReasons[0]).toMatch(/#9 are not accounts relay made/);
    expect(decideRotation(cands, keys, "balance_empty").blockedReasons).toEqual(["no account to rotate"]);
  });

  it("runs at most k accounts of a group at a time", () => {
    const items = [1, 2, 3, 4].map((id) => ({ account: { groupId: id <= 3 ? 3 : 4 }, id }));
    expect(rotationWaves(items, 2).map((w) => w.map((i) => i.id))).toEqual([[1, 2], [3], [4]]);
  });

  it("a rotation batch's status follows its accounts", () => {
    const done = (rotated: number, restored: number, failed: number) =>
      nextBatchState({ current: "running", event: { kind: "rotation_finished", rotated, restored, failed } });
    expect(done(2, 0, 0)).toEqual({ status: "succeeded", reason: "2 account(s) on their new key" });
    expect(done(1, 1, 0).status).toBe("partially_succeeded");
    expect(
      nextBatchState({ current: "running", event: { kind: "rotation_interrupted", providerId: "deepseek" } })
        .status,
    ).toBe("failed");
    expect(() =>
      nextBatchState({
        current: "succeeded",
        event: { kind: "rotation_finished", rotated: 1, restored: 0, failed: 0 },
      }),
    ).toThrow(/cannot follow/);
  });
});
