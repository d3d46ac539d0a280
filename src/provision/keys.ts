import { invalidInput } from "../domain/errors.js";
import { act, hint } from "../domain/hints.js";
import { checkKeyPattern } from "../domain/pack/pattern.js";
import { maskSecret, type SecretBox } from "../util/secrets.js";

export const DEFAULT_MAX_KEYS = 10_000;
export const MAX_KEY_LINE = 512;

/** A provider key in memory: the secret never leaves this object except towards the host. */
export interface IntakeKey {
  position: number;
  /** Line in the input (1-based), for messages that must not show the key. */
  line: number;
  secret: string;
  hash: string;
  mask: string;
  malformed: boolean;
}

export interface KeyIntake {
  keys: IntakeKey[];
  duplicates: number;
  ignoredLines: number;
  malformed: number;
}

/**
 * The pattern as a RegExp. A pack installed before patterns were checked may still carry an unsafe
 * one: its pattern is checked here and refused if unsafe. One checked at install is trusted, which
 * spares an import the checker's ~70 MB and ~70 ms.
 */
async function safePattern(keyPattern: string, checkedAtInstall: boolean): Promise<RegExp> {
  if (checkedAtInstall) return new RegExp(keyPattern);
  const verdict = await checkKeyPattern(keyPattern);
  if (!verdict.safe)
    throw invalidInput("KEY_PATTERN_UNSAFE", `the provider's key_pattern is refused: ${verdict.reason}`, {
      hint: hint`Fix key_pattern in the pack, bump its version and install it again (${act.packLint()} shows the problem).`,
    });
  return new RegExp(keyPattern);
}

/**
 * Normalises a pasted key list: strips a BOM and CRs, trims, drops blank lines and `#` comments,
 * dedupes by keyed hash, flags keys that fail the provider's key_pattern. Refuses non-text input,
 * over-long lines and more than `maxKeys` keys — with messages that name lines, never keys.
 */
export async function intakeKeys(
  input: string | Buffer | string[],
  secrets: SecretBox,
  keyPattern: string | undefined,
  maxKeys = DEFAULT_MAX_KEYS,
  patternCheckedAtInstall = false,
): Promise<KeyIntake> {
  const lines = Array.isArray(input) ? input : splitText(input);
  const pattern = keyPattern ? await safePattern(keyPattern, patternCheckedAtInstall) : undefined;
  const seen = new Set<string>();
  const keys: IntakeKey[] = [];
  let duplicates = 0;
  let ignoredLines = 0;
  lines.forEach((raw, i) => {
    if (typeof raw !== "string") throw invalidInput("KEYS_NOT_TEXT", `key #${i + 1} is not a string`);
    const value = raw
      .replace(/^\uFEFF/, "")
      .replace(/\r/g, "")
      .trim();
    if (value.length > MAX_KEY_LINE)
      throw invalidInput(
        "KEY_LINE_TOO_LONG",
        `line ${i + 1} is longer than ${MAX_KEY_LINE} characters; one key per line`,
      );
    if (value === "" || value.startsWith("#")) {
      ignoredLines += 1;
      return;
    }
    if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
      throw invalidInput(
        "KEYS_NOT_TEXT",
        `line ${i + 1} contains control characters; is this a binary file?`,
      );
    }
    const hash = secrets.keyHash(value);
    if (seen.has(hash)) {
      duplicates += 1;
      return;
    }
    seen.add(hash);
    if (keys.length >= maxKeys) {
      throw invalidInput("TOO_MANY_KEYS", `more than ${maxKeys} keys; split the list into several imports`);
    }
    const malformed = /\s/.test(value) || (pattern !== undefined && !pattern.test(value));
    keys.push({
      position: keys.length,
      line: i + 1,
      secret: value,
      hash,
      mask: maskSecret(value),
      malformed,
    });
  });
  if (keys.length === 0)
    throw invalidInput("NO_KEYS", "the key list holds no keys (blank lines and # comments are ignored)");
  return { keys, duplicates, ignoredLines, malformed: keys.filter((k) => k.malformed).length };
}

function splitText(input: string | Buffer): string[] {
  let text: string;
  if (Buffer.isBuffer(input)) {
    if (input.includes(0))
      throw invalidInput(
        "KEYS_NOT_TEXT",
        "the key file contains NUL bytes; give a text file with one key per line",
      );
    text = new TextDecoder("utf-8", { fatal: false }).decode(input);
    if (text.includes("\uFFFD")) throw invalidInput("KEYS_NOT_TEXT", "the key file is not UTF-8 text");
  } else {
    text = input;
  }
  // The newline that ends the last line starts no line of its own (it is not a "blank line").
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
