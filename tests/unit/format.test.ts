import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { outputWidth, shorten, table } from "../../src/cli/format.js";

const longReason = `KEY_REFUSED_BY_UPSTREAM: ${"upstream said no ".repeat(40)}`;

describe("tables fitted to the terminal", () => {
  it("keeps every line within the width, shortening the reason with an ellipsis", () => {
    for (const width of [60, 80, 100, 140]) {
      const out = table(
        ["#", "KEY", "STATUS", "ERROR"],
        [
          [1, "sk-…a1b2", "failed", longReason],
          [2, "sk-…ffff", "tested", null],
          [3, "sk-…0000", "failed", `中文原因${"很长".repeat(80)}`],
        ],
        width,
      );
      const lines = out.split("\n");
      expect(lines).toHaveLength(5);
      for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(width);
      expect(lines[2]).toMatch(/^1\s+sk-…a1b2\s+failed\s+KEY_REFUSED_BY_UPSTREAM: upstream.*…$/);
      expect(lines[4]).toMatch(/…$/);
      expect(lines[3]).toMatch(/^2\s+sk-…ffff\s+tested\s+-$/);
    }
  });

  it("leaves a table that fits as it is, aligned, with a rule under the headings", () => {
    expect(table(["RESOURCE", "NAME", "ACTION"], [["group", "relay-deepseek-g1", "create"]], 100)).toBe(
      [
        "RESOURCE  NAME               ACTION",
        "--------  -----------------  ------",
        "group     relay-deepseek-g1  create",
      ].join("\n"),
    );
  });

  it("puts a cell with new lines on one line", () => {
    expect(table(["A", "REASON"], [["x", "one\ntwo"]], 100).split("\n")[2]).toBe("x  one two");
  });

  it("takes the terminal's width, and 100 when stdout is not a terminal", () => {
    expect(outputWidth({ isTTY: true, columns: 72 })).toBe(72);
    expect(outputWidth({ isTTY: false, columns: 72 })).toBe(100);
    expect(outputWidth({})).toBe(100);
  });

  it("shortens by display width", () => {
    expect(shorten("abcdef", 10)).toBe("abcdef");
    expect(shorten("abcdefghijkl", 6)).toBe("abcde…");
    expect(stringWidth(shorten("中文中文中文", 7))).toBeLessThanOrEqual(7);
  });
});

describe("what is never cut", () => {
  it("identifier columns keep their full text even when the table is wider than the terminal", () => {
    const url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1";
    const out = table(["PROVIDER", "BASE URL", "REASON"], [["qwen-intl", url, "x".repeat(80)]], 60);
    expect(out.split("\n")[2]).toMatch(
      new RegExp(`^qwen-intl\\s+${url.replace(/[./]/g, "\\$&")}\\s+x{11}…$`),
    );
  });
});
