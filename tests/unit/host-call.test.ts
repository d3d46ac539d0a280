import { describe, expect, it } from "vitest";
import { AppError, conflict, hintOf } from "../../src/domain/errors.js";
import { act, hint } from "../../src/domain/hints.js";
import { HostError } from "../../src/host/sub2api/index.js";
import { callHost } from "../../src/steps/host-call.js";

const host = { baseUrl: "https://sub2api.example.com" };

describe("callHost: the one place an adapter failure becomes an AppError", () => {
  it("a refused admin key leaves as HOST_AUTH_FAILED with the host's details", async () => {
    const refused = new HostError({
      kind: "http",
      operation: "system.version",
      message: "unauthorized",
      status: 401,
      code: "INVALID_ADMIN_KEY",
    });
    const err = await callHost(host, () => Promise.reject(refused)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      kind: "host_rejected",
      code: "HOST_AUTH_FAILED",
      details: { operation: "system.version", status: 401, host_code: "INVALID_ADMIN_KEY" },
      cause: refused,
    });
    expect((err as AppError).message).toContain(host.baseUrl);
  });

  it("a network failure is HOST_UNREACHABLE; anything else passes as it is", async () => {
    const down = new HostError({ kind: "network", operation: "accounts.list", message: "ECONNREFUSED" });
    await expect(callHost(host, () => Promise.reject(down))).rejects.toMatchObject({
      code: "HOST_UNREACHABLE",
    });
    const own = conflict("PROVIDER_BUSY", "busy");
    await expect(callHost(host, () => Promise.reject(own))).rejects.toBe(own);
    const bug = new TypeError("a bug");
    await expect(callHost(host, () => Promise.reject(bug))).rejects.toBe(bug);
    await expect(callHost(host, async () => 42)).resolves.toBe(42);
  });
});

describe("hints in both forms", () => {
  it("an AppError keeps the CLI form as hint and the API form as apiHint; a string is both", () => {
    const e = new AppError("not_found", "HOST_NOT_FOUND", "no host", {
      hint: hint`List the registered hosts with ${act.hostList()}.`,
    });
    expect(e.hint).toBe("List the registered hosts with `relay host list`.");
    expect(e.apiHint).toBe("List the registered hosts with `GET /api/hosts`.");
    expect(hintOf(e)).toEqual({ cli: e.hint, api: e.apiHint });
    const plain = new AppError("conflict", "PROVIDER_BUSY", "busy", { hint: "Wait." });
    expect([plain.hint, plain.apiHint]).toEqual(["Wait.", "Wait."]);
  });
});
