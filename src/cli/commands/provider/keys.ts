import { invalidInput } from "../../../domain/errors.js";
import { FileRefused, readBoundedFd, readBoundedFile } from "../../../util/bounded-read.js";

const MAX_KEY_FILE_BYTES = 8 * 1024 * 1024;

/** Keys come from a file or stdin (`-`) only, never from argv. */
export async function readKeysFile(path: string): Promise<Buffer> {
  const where = path === "-" ? "standard input" : "the key file";
  try {
    return path === "-" ? readBoundedFd(0, MAX_KEY_FILE_BYTES) : readBoundedFile(path, MAX_KEY_FILE_BYTES);
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    // The message names what is wrong, never the path: it may be a secret passed by mistake.
    const code = err.reason === "too_large" ? "KEYS_FILE_TOO_LARGE" : "KEYS_FILE_UNREADABLE";
    throw invalidInput(code, `cannot use ${where}: ${err.message}`, {
      hint: "Give a regular text file with one key per line (at most 8 MiB), or `-` to read standard input.",
    });
  }
}
