import { Type } from "@sinclair/typebox";
import { invalidInput } from "../../../domain/errors.js";
import { decodeMasterKey } from "../../../util/secrets.js";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";
import { readSecret } from "../../secret-input.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadMasterKey = () => import("../../../app/master-key.js");

function decodeKey(text: string): Buffer {
  const key = decodeMasterKey(text);
  if (!key)
    throw invalidInput(
      "INVALID_MASTER_KEY",
      "the new master key must be 32 bytes, as 64 hex characters or base64",
    );
  return key;
}

export const rotateMasterKey = defineCommand({
  name: "rotate-master-key",
  description: "re-encrypt every stored secret under a new master key (one transaction)",
  options: [
    option("--new-key-file <path>", "file holding the new key (64 hex characters or base64)"),
    option("--new-key-env <var>", "environment variable holding the new key"),
  ],
  schema: Type.Object(
    { newKeyFile: Type.Optional(Type.String()), newKeyEnv: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  help: "\nStop `relay serve` first; afterwards start everything with the new key.\n\nExample:\n  openssl rand -base64 32 > new.key && chmod 600 new.key\n  relay maintenance rotate-master-key --new-key-file new.key",
  action: async (_args, opts, cmd) => {
    await runCommand<{ hosts: number; secrets: number; next: string }>(cmd, async (ctx) => {
      const newKey = decodeKey(
        readSecret(
          "new master key",
          { file: "--new-key-file", env: "--new-key-env" },
          { file: opts.newKeyFile, env: opts.newKeyEnv },
          process.env,
        ),
      );
      const r = await (await loadMasterKey()).rotateMasterKey(ctx.db, ctx.config.masterKey, newKey);
      const next =
        "Now replace RELAY_MASTER_KEY (or the key file) with the new key before the next start; the old key no longer opens this database.";
      return {
        data: { ...r, next },
        human: () => `re-encrypted ${r.secrets} secret(s) of ${r.hosts} host(s).\n${next}`,
      };
    });
  },
});
