import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError, ERROR_CODES, isErrorCode } from "../../src/domain/errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");

describe("error codes", () => {
  it("docs/errors.md lists exactly the codes of ERROR_CODES, each once", () => {
    const listed = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...ERROR_CODES].sort());
  });

  it("the set is closed: no code twice, and nothing outside it is a code", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(isErrorCode("HOST_AUTH_FAILED")).toBe(true);
    expect(isErrorCode("HOST_AUTH_FAILURE")).toBe(false);
    // @ts-expect-error a code outside ERROR_CODES does not compile (`npm run lint` checks tests)
    expect(new AppError("conflict", "HOST_AUTH_FAILURE", "x").code).toBe("HOST_AUTH_FAILURE");
  });
});
