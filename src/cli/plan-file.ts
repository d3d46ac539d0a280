import { writeFileSync } from "node:fs";
import { invalidInput } from "../domain/errors.js";
import type { SubscriptionTarget } from "../domain/plan.js";
import type { ImportPlan, ImportRequest } from "../provision/types.js";
import { FileRefused, readBoundedFile } from "../util/bounded-read.js";

const KIND = "relay.import-plan";
const MAX_PLAN_BYTES = 16 * 1024 * 1024;

/** What an import needs besides the keys: the request the plan was made from. */
export interface PlanRequest {
  host: string;
  provider_id: string;
  mode: "strict" | "partial";
  access_mode: "subscription" | "self-service" | null;
  subscribe: { user_id: number; days: number | null }[];
  with_plan: boolean;
}

export interface PlanFile {
  kind: typeof KIND;
  version: 1;
  request: PlanRequest;
  plan: ImportPlan;
}

/**
 * `relay provider preview --out FILE`: the plan as reviewed, with the request it came from. It
 * holds no key material (keys are masked; the keys file is given again at import).
 */
export function writePlanFile(path: string, req: ImportRequest, plan: ImportPlan): void {
  const file: PlanFile = {
    kind: KIND,
    version: 1,
    request: {
      host: plan.host_id,
      provider_id: plan.provider_id,
      mode: req.mode,
      access_mode: req.accessMode ?? null,
      subscribe: (req.subscribe ?? []).map((t) => ({ user_id: t.userId, days: t.days ?? null })),
      with_plan: req.withPlan === true,
    },
    plan,
  };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a plan file written by `--out`; anything else is refused with what is wrong. */
export function readPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readBoundedFile(path, MAX_PLAN_BYTES).toString("utf8");
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    throw invalidInput("PLAN_FILE_UNREADABLE", `cannot use the plan file: ${err.message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput("PLAN_FILE_INVALID", "the plan file is not JSON", {
      hint: "Write it with `relay provider preview … --out FILE`.",
    });
  }
  const f = parsed as Partial<PlanFile>;
  const r = f.request;
  const ok =
    f.kind === KIND &&
    f.version === 1 &&
    typeof f.plan?.fingerprint === "string" &&
    /^[0-9a-f]{64}$/.test(f.plan.fingerprint) &&
    r !== undefined &&
    typeof r.host === "string" &&
    typeof r.provider_id === "string" &&
    (r.mode === "strict" || r.mode === "partial") &&
    Array.isArray(r.subscribe) &&
    typeof r.with_plan === "boolean";
  if (!ok) {
    throw invalidInput("PLAN_FILE_INVALID", "the plan file is not one `relay provider preview --out` wrote", {
      hint: "Write it with `relay provider preview … --out FILE`.",
    });
  }
  // The request and the plan it produced agree, or the file was edited (the body itself is
  // checked against its fingerprint by the import, which has the host's answers to hand).
  const plan = f.plan as ImportPlan;
  const edited = [
    ["request/host", r.host, plan.host_id],
    ["request/provider_id", r.provider_id, plan.provider_id],
    ["request/mode", r.mode, plan.mode],
    ["request/access_mode", r.access_mode ?? null, plan.access_mode ?? null],
  ].find(([, a, b]) => a !== b);
  if (edited)
    throw invalidInput("PLAN_EDITED", `the plan file was edited: /${edited[0]} is not what its plan says`, {
      hint: "A plan file is applied as `relay provider preview --out` wrote it, or not at all: preview again.",
    });
  return f as PlanFile;
}

/**
 * The import request a plan file binds: its inputs, and the flags given on the command line,
 * which must agree with it (a flag that says otherwise is refused, not silently overridden).
 */
export function requestFromPlan(
  file: PlanFile,
  providerId: string,
  flags: {
    host?: string;
    mode?: string;
    accessMode?: string;
    subscribe?: SubscriptionTarget[];
    withPlan?: boolean;
  },
): Omit<ImportRequest, "keys"> {
  const r = file.request;
  const differs = (flag: string, given: unknown, planned: unknown) => {
    if (given !== undefined && JSON.stringify(given) !== JSON.stringify(planned))
      throw invalidInput(
        "PLAN_MISMATCH",
        `${flag} ${JSON.stringify(given)} differs from the plan's ${JSON.stringify(planned)}`,
        {
          hint: "Leave the flag out (the plan file decides), or preview again with it.",
        },
      );
  };
  differs("provider", providerId, r.provider_id);
  if (flags.host !== undefined && flags.host !== r.host && flags.host !== file.plan.host_name)
    differs("--host", flags.host, file.plan.host_name);
  differs("--mode", flags.mode, r.mode);
  differs("--access-mode", flags.accessMode, r.access_mode ?? undefined);
  const planned = r.subscribe.map((t) => ({
    userId: t.user_id,
    ...(t.days === null ? {} : { days: t.days }),
  }));
  if (flags.subscribe && flags.subscribe.length > 0) differs("--subscribe", flags.subscribe, planned);
  if (flags.withPlan) differs("--with-plan", true, r.with_plan);
  return {
    hostRef: r.host,
    providerId: r.provider_id,
    mode: r.mode,
    ...(r.access_mode ? { accessMode: r.access_mode } : {}),
    subscribe: planned,
    withPlan: r.with_plan,
  };
}
