import { describe, expect, it } from "vitest";
import { maskSecret, SecretBox, safeEqual, secretMatcher } from "../../src/util/secrets.js";

const box = new SecretBox(Buffer.alloc(32, 3));

describe("SecretBox", () => {
  it("round-trips and never contains the plaintext", () => {
    const sealed = box.seal("admin-secret-value", "host-admin-token");
    expect(sealed.startsWith("v1:")).toBe(true);
    expect(sealed).not.toContain("admin-secret-value");
    expect(box.open(sealed, "host-admin-token")).toBe("admin-secret-value");
  });

  it("uses a fresh IV each time", () => {
    expect(box.seal("same", "p")).not.toBe(box.seal("same", "p"));
  });

  it("refuses tampered data, another purpose and another master key", () => {
    const sealed = box.seal("secret", "host-admin-token");
    const parts = sealed.split(":");
    const body = Buffer.from(parts[3] ?? "", "base64");
    body[0] = (body[0] ?? 0) ^ 1;
    const tampered = [parts[0], parts[1], parts[2], body.toString("base64")].join(":");
    expect(() => box.open(tampered, "host-admin-token")).toThrow(/cannot be decrypted/);
    expect(() => box.open(sealed, "probe-password")).toThrow(/cannot be decrypted/);
    expect(() => new SecretBox(Buffer.alloc(32, 4)).open(sealed, "host-admin-token")).toThrow(
      /cannot be decrypted/,
    );
  });

  it("keys the provider-key hash: stable, 64 hex, and different under another master key", () => {
    const h = box.keyHash("sk-abc");
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(box.keyHash("sk-abc")).toBe(h);
    expect(new SecretBox(Buffer.alloc(32, 4)).keyHash("sk-abc")).not.toBe(h);
  });
});

describe("maskSecret and safeEqual", () => {
  it("masks keys to prefix and last four", () => {
    expect(maskSecret("sk-1234567890abcdef")).toBe("sk-…cdef");
    expect(maskSecret(`admin-${"f".repeat(60)}1a2b`)).toBe("admin-…1a2b");
    expect(maskSecret("short")).toBe("…");
  });

  it("compares in constant time and exactly", () => {
    expect(safeEqual("token-a", "token-a")).toBe(true);
    expect(safeEqual("token-a", "token-b")).toBe(false);
    expect(safeEqual("token", "token-longer")).toBe(false);
    const matches = secretMatcher("token-a");
    expect(matches("token-a")).toBe(true);
    expect(matches("token-b")).toBe(false);
    expect(matches("token-a ")).toBe(false);
    expect(matches("")).toBe(false);
  });
});
