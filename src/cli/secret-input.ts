import { readFileSync, statSync } from "node:fs";
import { invalidInput } from "../domain/errors.js";

export interface SecretSourceOptions {
  file?: string;
  stdin?: boolean;
  env?: string;
}

const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Secrets come from a file, stdin or a named environment variable — never from argv, where they
 * would show in `ps` and shell history. Exactly one source must be given.
 */
export function readSecret(
  what: string,
  flags: { file: string; stdin?: string; env: string },
  o: SecretSourceOptions,
  env: NodeJS.ProcessEnv,
): string {
  const given = [o.file !== undefined, o.stdin === true, o.env !== undefined].filter(Boolean).length;
  if (given !== 1) {
    const sources = [`${flags.file} PATH`, ...(flags.stdin ? [flags.stdin] : []), `${flags.env} VAR`];
    throw invalidInput(
      "SECRET_SOURCE_REQUIRED",
      `give the ${what} with exactly one of ${sources.join(", ").replace(/, ([^,]*)$/, " or $1")}`,
    );
  }
  let value: string;
  if (o.file !== undefined) {
    let size: number;
    try {
      size = statSync(o.file).size;
    } catch {
      throw invalidInput("SECRET_FILE_UNREADABLE", `cannot read ${what} file ${o.file}`);
    }
    if (size > MAX_SECRET_FILE_BYTES)
      throw invalidInput("SECRET_FILE_TOO_LARGE", `${o.file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    value = readFileSync(o.file, "utf8");
  } else if (o.stdin) {
    value = readFileSync(0, "utf8");
  } else {
    const name = o.env as string;
    const v = env[name];
    if (v === undefined) throw invalidInput("SECRET_ENV_UNSET", `environment variable ${name} is not set`);
    value = v;
  }
  const trimmed = value.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") throw invalidInput("SECRET_EMPTY", `the ${what} is empty`);
  if (trimmed.includes("\n")) throw invalidInput("SECRET_MULTILINE", `the ${what} must be a single line`);
  return trimmed;
}
