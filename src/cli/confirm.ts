import { createInterface } from "node:readline/promises";
import { invalidInput } from "../domain/errors.js";

/**
 * A destructive command asks on a terminal and needs `--yes` anywhere else (a script, a pipe, a
 * cron job): nothing is changed without one or the other.
 */
export async function confirmOrRefuse(
  yes: boolean,
  question: string,
  shown: () => string,
  whatToAdd = "add --yes",
): Promise<void> {
  if (yes) return;
  if (!(process.stdin.isTTY && process.stderr.isTTY))
    throw invalidInput(
      "CONFIRMATION_REQUIRED",
      `${whatToAdd} to run this without an interactive confirmation`,
    );
  process.stderr.write(`${shown()}\n\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    if (!/^y(es)?$/i.test((await rl.question(question)).trim()))
      throw invalidInput("CANCELLED", "cancelled; nothing was changed");
  } finally {
    rl.close();
  }
}
