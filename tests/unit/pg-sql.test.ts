import { describe, expect, it } from "vitest";
import { inline, toPostgres } from "../../src/store/pg.js";

describe("SQLite-dialect SQL for PostgreSQL", () => {
  it("numbers placeholders, leaving quoted literals and identifiers alone", () => {
    expect(toPostgres(`SELECT * FROM t WHERE a = ? AND b = '?' AND "c?" = ? LIMIT ?`)).toBe(
      `SELECT * FROM t WHERE a = $1 AND b = '?' AND "c?" = $2 LIMIT $3`,
    );
  });

  it("drops the table names drizzle's SQLite dialect writes in a conflict target", () => {
    expect(
      toPostgres(
        `insert into "p" ("a", "b") values (?, ?) on conflict ("p"."a", "p"."b") do update set "b" = ?`,
      ),
    ).toBe(`insert into "p" ("a", "b") values ($1, $2) on conflict ("a", "b") do update set "b" = $3`);
  });

  it("writes values in as quoted literals that no value can leave", () => {
    const hostile = `it's \\ a ? "x" on conflict ("t"."c") $1 '; DROP TABLE hosts; --`;
    const sql = inline("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)", ["k", hostile, 5]);
    expect(sql).toBe(
      `INSERT INTO settings (key, value, updated_at) VALUES ('k', E'it''s \\\\ a ? "x" on conflict ("t"."c") $1 ''; DROP TABLE hosts; --', '5')`,
    );
    expect(inline("UPDATE t SET a = ? WHERE b = ?", [null, true])).toBe(
      "UPDATE t SET a = NULL WHERE b = 'true'",
    );
    // A value with no text form, or a count that does not match: not inlined (sent as a parameter).
    expect(inline("UPDATE t SET a = ?", [Buffer.from("x")])).toBeUndefined();
    expect(inline("UPDATE t SET a = ?", [1, 2])).toBeUndefined();
    expect(inline("UPDATE t SET a = ?", [Number.NaN])).toBeUndefined();
  });
});
