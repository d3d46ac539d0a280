import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/util/paths.js";
import {
  fileCircles,
  layerViolations,
  longFiles,
  longFunctions,
  occurrencesOutside,
  readSources,
  type SourceFile,
} from "../helpers/architecture.js";

const files = readSources(projectRoot());
const storeFiles = files.filter((f) => f.path.startsWith("src/store/")).map((f) => f.path);
const hostFiles = files.filter((f) => f.path.startsWith("src/host/")).map((f) => f.path);

/** A synthetic file, to show that each rule catches what it is there to catch. */
const file = (path: string, imports: string[] = [], text = ""): SourceFile => ({
  path,
  text,
  imports: imports.map((target) => ({ target, typeOnly: false })),
  packages: [],
});

describe("the layers of src/ (docs/architecture.md)", () => {
  it("reads the whole tree", () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files.some((f) => f.path === "src/store/installs.ts")).toBe(true);
  });

  it("has no import circle", () => {
    expect(fileCircles(files)).toEqual([]);
  });

  it("imports only downwards, and feature folders never import each other", () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it("keeps files under 400 lines and functions under 100 (commander chains included)", () => {
    expect(longFiles(files, 400)).toEqual([]);
    expect(longFunctions(files, 100)).toEqual([]);
  });

  it("speaks SQL only in src/store", () => {
    const sqlPackages = files.filter(
      (f) =>
        !f.path.startsWith("src/store/") &&
        f.packages.some((p) => ["kysely", "pg", "better-sqlite3"].includes(p)),
    );
    expect(sqlPackages.map((f) => f.path)).toEqual([]);
    const schemaValues = files.filter(
      (f) =>
        !f.path.startsWith("src/store/") &&
        f.imports.some((i) => i.target === "src/store/schema.ts" && !i.typeOnly),
    );
    expect(schemaValues.map((f) => f.path)).toEqual([]);
    expect(occurrencesOutside(files, /\$client|\.prepare\(/, storeFiles)).toEqual([]);
  });

  it("never writes a value into SQL text: raw SQL only for a migration file's own text", () => {
    // Kysely's `sql` template binds every `${value}`; `sql.raw` and `sql.lit` put text in as it is.
    expect(occurrencesOutside(files, /sql\.(raw|lit)\(|\.unsafe\(/, ["src/store/db.ts"])).toEqual([]);
    const db = files.find((f) => f.path === "src/store/db.ts")?.text ?? "";
    expect(db.match(/sql\.raw\(([^)]*)\)/g)).toEqual(["sql.raw(text)"]);
  });

  it("decides a provider's status in one function and writes it in one place", () => {
    expect(
      occurrencesOutside(files, /\bnextProviderState\(/, ["src/domain/status.ts", "src/store/installs.ts"]),
    ).toEqual([]);
    expect(
      occurrencesOutside(files, /(update|insert)\(providerInstalls\)|provider_installs SET/i, [
        "src/store/installs.ts",
      ]),
    ).toEqual([]);
  });

  it("assigns subscriptions through one function", () => {
    expect(
      occurrencesOutside(files, /\.assignSubscription\(/, ["src/steps/subscriptions.ts", ...hostFiles]),
    ).toEqual([]);
  });

  it("takes provider leases through one helper", () => {
    expect(
      occurrencesOutside(files, /(FROM|INTO|UPDATE) locks\b|\blocks\)/, [
        "src/store/locks.ts",
        "src/store/schema.ts",
      ]),
    ).toEqual([]);
  });
});

describe("the architecture rules can fail", () => {
  it("finds a circle", () => {
    const circle = fileCircles([
      file("src/provision/a.ts", ["src/provision/b.ts"]),
      file("src/provision/b.ts", ["src/provision/a.ts"]),
    ]);
    expect(circle).toEqual([["src/provision/a.ts", "src/provision/b.ts"]]);
  });

  it("finds an import that runs up, one between features, and a folder in no layer", () => {
    const found = layerViolations([
      file("src/domain/x.ts", ["src/store/db.ts"]),
      file("src/access/y.ts", ["src/provision/z.ts"]),
      file("src/misc/w.ts"),
      file("src/cli/ok.ts", ["src/store/db.ts", "src/api/http/app.ts"]),
    ]);
    expect(found).toEqual([
      "src/domain/x.ts -> src/store/db.ts: domain may not import store (a higher layer)",
      "src/access/y.ts -> src/provision/z.ts: access and provision stand side by side and may not import each other",
      "src/misc/w.ts: folder src/misc is in no layer",
    ]);
  });

  it("finds long files and long functions, commander chains included", () => {
    const body = Array.from({ length: 101 }, (_, i) => `  x += ${i};`).join("\n");
    const long = file(
      "src/cli/long.ts",
      [],
      `export function big() {\n${body}\n}\nexport function configureBigCommand() {\n${body}\n}\n`,
    );
    expect(longFunctions([long], 100)).toEqual([
      "src/cli/long.ts: big has 103 lines",
      "src/cli/long.ts: configureBigCommand has 103 lines",
    ]);
    expect(longFiles([long], 200)).toEqual(["src/cli/long.ts: 207 lines"]);
  });

  it("finds a rule written outside its one place", () => {
    const stray = file("src/reconcile/x.ts", [], "ctx.db.update(providerInstalls).set({ status })");
    expect(
      occurrencesOutside([stray], /(update|insert)\(providerInstalls\)/, ["src/store/installs.ts"]),
    ).toEqual(["src/reconcile/x.ts"]);
  });
});
