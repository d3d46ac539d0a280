import { invalidInput } from "../domain/errors.js";
import { FileRefused, readBoundedFd, readBoundedFile } from "../util/bounded-read.js";

export interface SecretSourceOptions {
  file?: string;
  stdin?: boolean;
  env?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
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
  if (o.file !== undefined || o.stdin) {
    const source = o.file !== undefined ? `the ${what} file` : "standard input";
    try {
      value = (
        o.file !== undefined
          ? readBoundedFile(o.file, MAX_SECRET_FILE_BYTES)
          : readBoundedFd(0, MAX_SECRET_FILE_BYTES)
      ).toString("utf8");
    } catch (err) {
      if (!(err instanceof FileRefused)) throw err;
      // Never the path: a secret given where a path belongs would be printed back.
      throw invalidInput(
        err.reason === "too_large" ? "SECRET_FILE_TOO_LARGE" : "SECRET_FILE_UNREADABLE",
        `cannot use ${source}: ${err.message}`,
      );
    }
  } else {
    const name = o.env as string;
    if (!ENV_NAME.test(name))
      throw invalidInput(
        "SECRET_ENV_INVALID",
        `the value given to ${flags.env} is not an environment variable name (it is not shown: it may be the secret itself)`,
        { hint: `Put the ${what} in a variable and pass its name, e.g. ${flags.env} RELAY_ADMIN_KEY.` },
      );
    const v = env[name];
    if (v === undefined) throw invalidInput("SECRET_ENV_UNSET", `environment variable ${name} is not set`);
    value = v;
  }
  const trimmed = value.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") throw invalidInput("SECRET_EMPTY", `the ${what} is empty`);
  if (trimmed.includes("\n")) throw invalidInput("SECRET_MULTILINE", `the ${what} must be a single line`);
  return trimmed;
}
