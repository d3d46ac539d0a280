import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/**
 * The layers of src/ (docs/architecture.md), lowest first. An import may point to its own folder
 * or to a lower layer; feature folders share a layer and never import each other.
 */
export const LAYERS: string[][] = [
  ["util"],
  ["config"],
  ["host"],
  ["domain"],
  ["store"],
  ["app"],
  ["alerts"],
  ["steps"],
  ["hosts", "packs", "provision", "access", "reconcile", "policy"],
  ["api", "worker"],
  ["cli"],
];
export const FEATURES = new Set(LAYERS[8]);

export interface SourceFile {
  /** Path relative to the project root, `/`-separated. */
  path: string;
  text: string;
  /** Relative imports resolved to project paths; `typeOnly` for `import type`. */
  imports: { target: string; typeOnly: boolean }[];
  /** Package (non-relative) imports that load code at run time. */
  packages: string[];
}

const toPosix = (p: string) => p.split(sep).join("/");

export function readSources(root: string, dir = "src"): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(parseSource(root, p));
    }
  };
  walk(dir);
  return out;
}

function parseSource(root: string, path: string): SourceFile {
  const text = readFileSync(join(root, path), "utf8");
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const imports: SourceFile["imports"] = [];
  const packages: string[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith(".")) {
      if (!typeOnly) packages.push(spec);
      return;
    }
    const target = toPosix(relative(root, resolve(root, dirname(path), spec))).replace(/\.js$/, ".ts");
    imports.push({ target, typeOnly });
  };
  sf.forEachChild((n) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) {
      const spec = (n.moduleSpecifier as ts.StringLiteral).text;
      const clause = ts.isImportDeclaration(n) ? n.importClause : undefined;
      const typeOnly = ts.isImportDeclaration(n)
        ? clause?.isTypeOnly === true ||
          (clause?.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.name === undefined &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly))
        : n.isTypeOnly;
      add(spec, typeOnly);
    }
  });
  // Dynamic imports (lazy loading in the CLI) count as imports too.
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    }
    n.forEachChild(visit);
  };
  visit(sf);
  return { path, text, imports, packages };
}

/** The top folder of a path under src/ (`src/store/db.ts` → `store`), or undefined for src/*.ts. */
export function folderOf(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "src" && parts.length > 2 ? parts[1] : undefined;
}

export function rankOf(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

/** Import circles between files (Tarjan's strongly connected components of size > 1). */
export function fileCircles(files: SourceFile[]): string[][] {
  const edges = new Map(files.map((f) => [f.path, f.imports.map((i) => i.target)]));
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const f of files) if (!idx.has(f.path)) visit(f.path);
  return out;
}

/** Imports that run up the layers, or sideways between feature folders, or into an unknown folder. */
export function layerViolations(files: SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = folderOf(f.path);
    if (from === undefined) continue;
    if (rankOf(from) < 0) out.push(`${f.path}: folder src/${from} is in no layer`);
    for (const { target } of f.imports) {
      const to = folderOf(target);
      if (to === undefined || to === from) continue;
      if (rankOf(to) > rankOf(from))
        out.push(`${f.path} -> ${target}: ${from} may not import ${to} (a higher layer)`);
      else if (rankOf(to) === rankOf(from))
        out.push(
          `${f.path} -> ${target}: ${from} and ${to} stand side by side and may not import each other`,
        );
    }
  }
  return out;
}

/** Functions longer than `max` lines (a commander chain is a function like any other). */
export function longFunctions(files: SourceFile[], max: number): string[] {
  const out: string[] = [];
  for (const f of files) {
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node) => {
      if (
        ts.isFunctionDeclaration(n) ||
        ts.isMethodDeclaration(n) ||
        ts.isArrowFunction(n) ||
        ts.isFunctionExpression(n)
      ) {
        const name =
          (n as ts.FunctionDeclaration).name?.getText(sf) ??
          (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText(sf) : "<anonymous>");
        const lines =
          sf.getLineAndCharacterOfPosition(n.getEnd()).line -
          sf.getLineAndCharacterOfPosition(n.getStart(sf)).line +
          1;
        if (lines > max) out.push(`${f.path}: ${name} has ${lines} lines`);
      }
      n.forEachChild(visit);
    };
    visit(sf);
  }
  return out;
}

export function longFiles(files: SourceFile[], max: number): string[] {
  return files
    .map((f) => [f.path, f.text.split("\n").length] as const)
    .filter(([, n]) => n > max)
    .map(([p, n]) => `${p}: ${n} lines`);
}

/** Files outside `allowed` whose text matches `pattern` (a rule that must live in one place). */
export function occurrencesOutside(files: SourceFile[], pattern: RegExp, allowed: string[]): string[] {
  return files.filter((f) => !allowed.includes(f.path) && pattern.test(f.text)).map((f) => f.path);
}
