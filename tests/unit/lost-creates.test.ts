import { describe, expect, it } from "vitest";
import { orphanAction } from "../../src/domain/lost-creates.js";
import { ownershipTag } from "../../src/domain/naming.js";
import { nextStep } from "../../src/domain/next-steps.js";

const sent = { installId: "0a1b2c3d", providerId: "deepseek" };
const tag = ownershipTag("0a1b2c3d", "deepseek", "b_1");
const pending = { state: "create_pending", hostResourceId: null, batchId: "b_1" };

describe("orphanAction: only relay's own unresolved creates, matched by name and tag (#29 R4)", () => {
  it("adopts into a live batch and deletes after its rollback, for a create left unresolved with relay's tag", () => {
    expect(orphanAction(pending, "succeeded", tag, sent)).toBe("adopt");
    expect(orphanAction(pending, "partially_succeeded", tag, sent)).toBe("adopt");
    expect(orphanAction({ ...pending, state: "gone" }, "rolled_back", tag, sent)).toBe("delete");
    expect(orphanAction(pending, "failed", tag, sent)).toBe("delete");
  });

  it("reports a look-alike in place of a resource whose create was answered, whatever tag it carries", () => {
    const answered = { state: "created", hostResourceId: 7, batchId: "b_1" };
    expect(orphanAction(answered, "succeeded", tag, sent)).toBe("report");
    expect(orphanAction({ ...answered, state: "deleted" }, "rolled_back", tag, sent)).toBe("report");
    expect(orphanAction({ ...pending, state: "deleted" }, "rolled_back", tag, sent)).toBe("report");
  });

  it("reports an object without relay's tag, with another install's, another batch's or a forged provider", () => {
    expect(orphanAction(pending, "succeeded", "", sent)).toBe("report");
    expect(orphanAction(pending, "succeeded", undefined, sent)).toBe("report");
    expect(orphanAction(pending, "succeeded", ownershipTag("ffffffff", "deepseek", "b_1"), sent)).toBe(
      "report",
    );
    expect(orphanAction(pending, "succeeded", ownershipTag("0a1b2c3d", "deepseek", "b_2"), sent)).toBe(
      "report",
    );
    expect(orphanAction(pending, "succeeded", ownershipTag("0a1b2c3d", "kimi", "b_1"), sent)).toBe("report");
  });

  it("reports what no record names, and a batch mid-way (recovery owns it)", () => {
    expect(orphanAction(undefined, undefined, tag, sent)).toBe("report");
    expect(orphanAction(pending, "running", tag, sent)).toBe("report");
    expect(orphanAction(pending, "rollback_running", tag, sent)).toBe("report");
  });
});

describe("nextStep of an object under relay's name that relay did not make", () => {
  it("says it is not relay's and to rename it, where another unexpected object may be deleted", () => {
    const f = {
      kind: "unexpected" as const,
      resource_type: "account",
      name: "deepseek-1a2b3c4d-0a1b2c3d",
      host_resource_id: 9,
      message: "",
    };
    const t = { providerId: "deepseek", hostName: "prod" };
    expect(nextStep({ ...f, field: "name" }, t)).toMatch(/^account #9 is not relay's: rename it on the host/);
    expect(nextStep(f, t)).toMatch(/^delete account #9 on the host if nothing uses it/);
  });
});
