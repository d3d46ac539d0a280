import { describe, expect, it } from "vitest";
import { deriveAccessState } from "../../src/domain/access.js";

describe("deriveAccessState", () => {
  it.each([
    [{ subscription: "ok", selfService: "ok" }, "fully_ready"],
    [{ subscription: "ok", selfService: "not_applicable" }, "subscription_ready"],
    [{ subscription: "not_applicable", selfService: "ok" }, "self_service_ready"],
    [
      { subscription: "failed", selfService: "not_applicable", errorCode: "SUBSCRIPTION_NOT_FOUND" },
      "broken",
    ],
    [{ subscription: "ok", selfService: "failed" }, "broken"],
    [{ subscription: "not_applicable", selfService: "not_applicable" }, "not_configured"],
    [{ subscription: "ok", selfService: "ok", unverifiable: "no probe identity" }, "not_configured"],
  ] as const)("%j → %s", (evidence, state) => {
    expect(deriveAccessState(evidence).state).toBe(state);
  });

  it("says why", () => {
    expect(
      deriveAccessState({
        subscription: "failed",
        selfService: "not_applicable",
        errorCode: "SUBSCRIPTION_NOT_FOUND",
      }).reason,
    ).toMatch(/SUBSCRIPTION_NOT_FOUND/);
    expect(
      deriveAccessState({ subscription: "ok", selfService: "ok", unverifiable: "login blocked" }).reason,
    ).toBe("not verifiable: login blocked");
  });
});
