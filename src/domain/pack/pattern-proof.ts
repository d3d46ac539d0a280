/**
 * A proof, by the pattern's shape alone, that a key pattern backtracks in linear time — no search,
 * no time limit, the same answer on every machine. It covers the patterns keys are described with:
 * `^` then a sequence of characters, escapes and classes, each optionally quantified (`?`, `*`,
 * `+`, `{n}`, `{n,}`, `{n,m}`), an optional `$`; groups only when unquantified and without `|`
 * (they group nothing then). Such a pattern is proved when every atom whose count can vary shares
 * no character with what can come right after it: the atoms that follow, up to and including the
 * first one that must match at least once (the end of the input adds none). Then at every step at
 * most one way forward can consume the next character, so the backtracker follows one path and
 * each give-back fails within a few steps. Anything else (alternation, quantified groups, lazy
 * quantifiers, lookaround, back-references, `\b`, unusual escapes) is not proved here and goes to
 * the full analysis.
 */

/** UTF-16 code units (a pattern without the `u` flag matches code units), as sorted inclusive ranges. */
export type CharSet = readonly (readonly [number, number])[];

export interface Atom {
  set: CharSet;
  min: number;
  /** `Infinity` for `*`, `+` and `{n,}`. */
  max: number;
}

/** A pattern of the simple shape: `^`, these atoms in order, and whether `$` ends it. */
export interface SimplePattern {
  atoms: Atom[];
  endAnchored: boolean;
}

const MAX_UNIT = 0xffff;

function normalise(ranges: (readonly [number, number])[]): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

const union = (...sets: CharSet[]): CharSet => normalise(sets.flat());

function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_UNIT) out.push([next, MAX_UNIT]);
  return out;
}

export function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i]!;
    const [blo, bhi] = b[j]!;
    if (alo <= bhi && blo <= ahi) return true;
    if (ahi < bhi) i += 1;
    else j += 1;
  }
  return false;
}

export const contains = (set: CharSet, unit: number): boolean =>
  set.some(([lo, hi]) => lo <= unit && unit <= hi);

const unit = (c: number): CharSet => [[c, c]];
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
/** ECMAScript WhiteSpace and LineTerminator, which `\s` matches. */
const SPACE: CharSet = normalise([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
/** `.` without the `s` flag: anything but a line terminator. */
const DOT = complement([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);

const CLASS_ESCAPES: Record<string, CharSet> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};
const CONTROL_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };
/** Characters that mean themselves after a backslash; letters and digits do not (`\b`, `\1`, `\x`…). */
const PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const SYNTAX = "^$\\.*+?()[]{}|";

/** Not the simple shape: the parser gives up, and the pattern goes to the full analysis. */
class NotSimple extends Error {}
const giveUp = (): never => {
  throw new NotSimple();
};

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** A character, an escape or a class, from its first character on. */
  atomSet(): CharSet {
    const c = this.src[this.pos++]!;
    if (c === ".") return DOT;
    if (c === "[") return this.charClass();
    if (c === "\\") return this.escape(false);
    if (SYNTAX.includes(c)) giveUp();
    return unit(c.charCodeAt(0));
  }

  escape(inClass: boolean): CharSet {
    const c = this.src[this.pos++] ?? giveUp();
    const set = CLASS_ESCAPES[c];
    if (set) return set;
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return unit(control);
    if (inClass && c === "b") return unit(0x08);
    if (PUNCTUATION.test(c)) return unit(c.charCodeAt(0));
    return giveUp();
  }

  /** After `[`, through its `]`. */
  charClass(): CharSet {
    const negated = this.peek() === "^";
    if (negated) this.pos += 1;
    const parts: CharSet[] = [];
    while (this.peek() !== "]") {
      const first = this.classAtom();
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.pos += 1;
        const last = this.classAtom();
        // A range needs one character at each end (`[\d-z]` means something else without `u`).
        if (first.single === undefined || last.single === undefined || first.single > last.single) giveUp();
        parts.push([[first.single!, last.single!]]);
      } else {
        parts.push(first.set);
      }
    }
    this.pos += 1;
    const set = union(...parts);
    return negated ? complement(set) : set;
  }

  classAtom(): { set: CharSet; single: number | undefined } {
    const c = this.src[this.pos++] ?? giveUp();
    if (c === "\\") {
      const classEscape = CLASS_ESCAPES[this.peek() ?? ""] !== undefined;
      const set = this.escape(true);
      return { set, single: classEscape ? undefined : set[0]![0] };
    }
    if (c === "[") giveUp(); // legal, but easy to misread; not needed for keys
    return { set: unit(c.charCodeAt(0)), single: c.charCodeAt(0) };
  }

  /** `?`, `*`, `+` or a braced count after an atom; exactly once when there is none. */
  quantifier(): { min: number; max: number } {
    const c = this.peek();
    let q: { min: number; max: number };
    if (c === "?") q = { min: 0, max: 1 };
    else if (c === "*") q = { min: 0, max: Infinity };
    else if (c === "+") q = { min: 1, max: Infinity };
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos)) ?? giveUp();
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (max < min) giveUp();
      this.pos += m[0].length - 1;
      q = { min, max };
    } else return { min: 1, max: 1 };
    this.pos += 1;
    if (this.peek() === "?" || this.peek() === "*" || this.peek() === "+" || this.peek() === "{") giveUp();
    return q;
  }

  /** Atoms up to the end, or up to the `)` closing the group this sequence is in. */
  sequence(atoms: Atom[], inGroup: boolean): boolean {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return inGroup ? giveUp() : false;
      if (c === ")") {
        if (!inGroup) giveUp();
        this.pos += 1;
        return false;
      }
      if (c === "$") {
        if (inGroup || this.pos !== this.src.length - 1) giveUp();
        this.pos += 1;
        return true;
      }
      if (c === "(") {
        this.pos += 1;
        if (this.peek() === "?") {
          if (this.peek(1) !== ":") giveUp(); // lookaround, named group
          this.pos += 2;
        }
        this.sequence(atoms, true);
        const after = this.peek();
        if (after === "?" || after === "*" || after === "+" || after === "{") giveUp();
        continue;
      }
      const set = this.atomSet();
      atoms.push({ set, ...this.quantifier() });
    }
  }
}

/** The pattern as `^` and a sequence of quantified atoms, or undefined when it has another shape. */
export function parseSimplePattern(source: string): SimplePattern | undefined {
  if (!source.startsWith("^")) return undefined;
  try {
    new RegExp(source);
    const parser = new Parser(source);
    parser.pos = 1;
    const atoms: Atom[] = [];
    const endAnchored = parser.sequence(atoms, false);
    return { atoms, endAnchored };
  } catch (err) {
    if (err instanceof NotSimple || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Whether the pattern is of the simple shape and deterministic, hence linear to backtrack. */
export function provesLinear(source: string): boolean {
  const simple = parseSimplePattern(source);
  if (!simple) return false;
  const { atoms } = simple;
  return atoms.every((atom, i) => {
    if (atom.min === atom.max) return true;
    for (let j = i + 1; j < atoms.length; j++) {
      const next = atoms[j]!;
      if (intersects(atom.set, next.set)) return false;
      if (next.min > 0) break;
    }
    return true;
  });
}
