import { type Static, Type } from "@sinclair/typebox";
import { invalidInput } from "../../../domain/errors.js";
import type { ImportPlan, ImportRequest } from "../../../provision/types.js";
import { option, requiredOption, SubscriptionTargets } from "../../define.js";
import { readPlanFile, requestFromPlan } from "../../plan-file.js";
import { readKeysFile } from "./keys.js";

/** The options `provider preview` and `provider import` share, in the order `--help` lists them. */
export function importOptions(forImport: boolean) {
  const mode = forImport
    ? option(
        "--mode <mode>",
        "strict: any failure rolls back; partial: keep what works (required without --plan)",
      ).choices(["strict", "partial"])
    : option("--mode <mode>", "strict: any failure rolls back; partial: keep what works")
        .choices(["strict", "partial"])
        .default("strict");
  return [
    option(
      "--host <host>",
      forImport ? "host name or id (required without --plan)" : "host name or id (required)",
    ),
    requiredOption(
      "--keys-file <path>",
      "file with one key per line (`-` reads stdin); # comments and blank lines are ignored (required)",
    ),
    mode,
    option("--access-mode <mode>", "how users will reach the provider").choices([
      "subscription",
      "self-service",
    ]),
    option(
      "--with-plan",
      "also create a payment plan when the host has the payment module and the pack defines one",
    ),
  ];
}

/** The schema of those shared options. */
export const importFields = {
  host: Type.Optional(Type.String()),
  keysFile: Type.String(),
  mode: Type.Optional(Type.Union([Type.Literal("strict"), Type.Literal("partial")])),
  accessMode: Type.Optional(Type.Union([Type.Literal("subscription"), Type.Literal("self-service")])),
  withPlan: Type.Optional(Type.Boolean()),
  subscribe: SubscriptionTargets,
  precheck: Type.Optional(Type.Boolean()),
};

const ImportFlags = Type.Object({ ...importFields, plan: Type.Optional(Type.String()) });
type ImportFlags = Static<typeof ImportFlags>;

/** The import request from the flags, or from a plan file (then with the fingerprint it binds). */
export async function requestFrom(
  providerId: string,
  opts: ImportFlags,
): Promise<{ req: ImportRequest; fingerprint?: string; reviewed?: ImportPlan }> {
  const precheck = opts.precheck !== undefined ? { precheck: opts.precheck } : {};
  if (opts.plan !== undefined) {
    const file = readPlanFile(opts.plan);
    const bound = requestFromPlan(file, providerId, {
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      ...(opts.accessMode !== undefined ? { accessMode: opts.accessMode } : {}),
      ...(opts.subscribe ? { subscribe: opts.subscribe } : {}),
      ...(opts.withPlan === true ? { withPlan: true } : {}),
    });
    const keys = await readKeysFile(opts.keysFile);
    return { req: { ...bound, keys, ...precheck }, fingerprint: file.plan.fingerprint, reviewed: file.plan };
  }
  if (opts.host === undefined) throw invalidInput("USAGE", "--host is required (or --plan FILE)");
  if (opts.mode === undefined)
    throw invalidInput("USAGE", "--mode strict|partial is required (or --plan FILE)");
  const req: ImportRequest = {
    hostRef: opts.host,
    providerId,
    keys: await readKeysFile(opts.keysFile),
    mode: opts.mode,
    ...(opts.accessMode ? { accessMode: opts.accessMode } : {}),
    subscribe: opts.subscribe ?? [],
    withPlan: opts.withPlan === true,
    ...precheck,
  };
  return { req };
}
