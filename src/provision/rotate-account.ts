import type { AppContext } from "../app/context.js";
import { logicalKey } from "../domain/naming.js";
import { resumeAfterRotation } from "../domain/rotation.js";
import { isHostError } from "../host/sub2api/index.js";
import { setItem } from "../store/batch-items.js";
import { appendEvent } from "../store/events.js";
import { forgetAccount, saveAccountStates } from "../store/health.js";
import { recordAccountTest } from "../store/probes.js";
import { rekeyAccount } from "../store/resources.js";
import type { IntakeKey } from "./keys.js";
import type {
  RotationInternals,
  RotationOutcome,
  RotationPlanAccount,
  RotationResult,
} from "./rotate-types.js";
import { describe } from "./saga.js";

export interface RotationRun {
  ctx: AppContext;
  internals: RotationInternals;
  batchId: string;
  smokeModel: string;
}

type AccountAnswer = RotationResult["accounts"][number];

/**
 * One account, in the ledger's order: intent recorded (the batch item, before any write), the
 * credentials read back from the host sent with the new key (the host keeps the id, the group
 * bindings and everything else), the account tested with the pack's smoke model; a pass puts it
 * back in scheduling when relay or the host had taken it out, a failure puts the old key back —
 * when the operator gave it — or leaves the account paused by relay on the new key.
 */
export async function rotateAccount(
  run: RotationRun,
  a: RotationPlanAccount,
  key: IntakeKey,
  oldKeyHash: string,
): Promise<AccountAnswer> {
  const { ctx, internals, batchId } = run;
  const { adapter } = internals;
  const onHost = internals.onHost.get(a.account_id);
  const answer = (outcome: RotationOutcome, schedulable: boolean | null, detail: string, error?: string) => ({
    account_id: a.account_id,
    name: a.name,
    old_key: a.old_key,
    new_key: key.mask,
    outcome,
    schedulable,
    detail,
    error: error ?? null,
  });
  // Every non-sensitive field as the host shows it, then the new key: omitted ones would be dropped.
  const fields = onHost?.credentialFields ?? {};
  await setItem(ctx, batchId, key.hash, { result: { phase: "writing" } });
  try {
    await adapter.updateAccountCredentials(a.account_id, { ...fields, api_key: key.secret });
  } catch (err) {
    if (!isHostError(err)) throw err;
    // A 4xx is a refusal: nothing changed. Anything else may have been acted on: the host holds
    // the old key or the new one, and relay puts it in a known state before it answers.
    const refused = err.kind === "http" && (err.status ?? 500) < 500;
    if (refused || !(await settleUncertainWrite(run, a, key, oldKeyHash)))
      return await notWritten(run, a, key, describe(err), answer, refused);
  }
  await setItem(ctx, batchId, key.hash, { status: "created", result: { phase: "written" } });
  const test = await adapter.testAccount(a.account_id, run.smokeModel).catch((err: unknown) => {
    if (!isHostError(err)) throw err;
    return { success: false, error: describe(err), latencyMs: null };
  });
  await recordAccountTest(ctx, {
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
    batchId,
    resourceId: internals.resourceIds.get(a.account_id) ?? 0,
    accountId: a.account_id,
    model: run.smokeModel,
    ok: test.success,
    error: test.error,
    latency: test.latencyMs ?? null,
  });
  if (test.success) return passed(run, a, key, answer);
  return failedTest(run, a, key, oldKeyHash, test.error ?? "the account test failed", answer);
}

type Answer = (
  outcome: RotationOutcome,
  schedulable: boolean | null,
  detail: string,
  error?: string,
) => AccountAnswer;

async function rekey(run: RotationRun, accountId: number, key: IntakeKey): Promise<void> {
  const id = run.internals.resourceIds.get(accountId);
  const row = [...run.internals.records.values()].find((r) => r.id === id);
  if (!row) return;
  const gen = /^g(\d+):/.exec(row.logicalKey)?.[1];
  await rekeyAccount(run.ctx, row.id, {
    logicalKey: logicalKey(Number(gen ?? 1), "account", key.hash),
    rawKeyHash: key.hash,
  });
}

async function passed(run: RotationRun, a: RotationPlanAccount, key: IntakeKey, answer: Answer) {
  const { ctx, internals, batchId } = run;
  await rekey(run, a.account_id, key);
  let schedulable: boolean | null = a.schedulable;
  let detail = "on the new key, test passed";
  if (resumeAfterRotation(a.paused_by) && !a.schedulable) {
    try {
      schedulable = (await internals.adapter.setAccountSchedulable(a.account_id, true)).schedulable;
      detail += `; schedulable again (paused by ${a.paused_by})`;
    } catch (err) {
      if (!isHostError(err)) throw err;
      detail += `; the host refused to make it schedulable (${describe(err)}): \`relay provider release ${internals.def.provider_id} --host ${internals.host.name}\` or set it by hand`;
    }
  } else if (a.paused_by === "person") detail += "; left paused: a person paused it";
  // A new key starts the health policy afresh: its streaks forgotten, relay's latch (if any) released.
  await forgetAccount(ctx, internals.host.id, internals.def.provider_id, a.account_id);
  await setItem(ctx, batchId, key.hash, { status: "tested", result: { phase: "done", outcome: "rotated" } });
  await appendEvent(ctx, {
    kind: "rotation.rotated",
    message: `account #${a.account_id} on key ${key.mask} (was ${a.old_key}): ${detail}`,
    batchId,
    hostId: internals.host.id,
    providerId: internals.def.provider_id,
    data: { account_id: a.account_id, old_key: a.old_key, new_key: key.mask },
  });
  return answer("rotated", schedulable, detail);
}

async function failedTest(
  run: RotationRun,
  a: RotationPlanAccount,
  key: IntakeKey,
  oldKeyHash: string,
  error: string,
  answer: Answer,
) {
  const { ctx, internals, batchId } = run;
  const old = internals.oldKeys.get(oldKeyHash);
  const fields = internals.onHost.get(a.account_id)?.credentialFields ?? {};
  if (old !== undefined) {
    try {
      await internals.adapter.updateAccountCredentials(a.account_id, { ...fields, api_key: old });
      await setItem(ctx, batchId, key.hash, {
        status: "rolled_back",
        errorCode: "NEW_KEY_TEST_FAILED",
        errorMessage: error,
        result: { phase: "done", outcome: "restored" },
      });
      await event(
        run,
        a,
        "rotation.restored",
        `account #${a.account_id}: new key ${key.mask} failed its test, old key ${a.old_key} put back`,
      );
      return answer(
        "restored",
        a.schedulable,
        "the new key failed its account test: the old key is back",
        error,
      );
    } catch (err) {
      if (!isHostError(err)) throw err;
      error = `${error}; putting the old key back failed too: ${describe(err)}`;
    }
  }
  // The account holds the new key now: the record says so, and relay pauses it with its latch.
  await rekey(run, a.account_id, key);
  let schedulable: boolean | null = a.schedulable;
  if (a.schedulable) {
    try {
      schedulable = (await internals.adapter.setAccountSchedulable(a.account_id, false)).schedulable;
      await saveAccountStates(ctx, internals.host.id, internals.def.provider_id, [
        {
          accountId: a.account_id,
          name: a.name,
          state: {
            failStreak: 1,
            passStreak: 0,
            resumes: 0,
            latch: {
              reason: `rotation: the new key failed its test (${error})`,
              at: ctx.clock().toISOString(),
            },
            lastAction: "pause",
          },
        },
      ]);
    } catch (err) {
      if (!isHostError(err)) throw err;
    }
  }
  await setItem(ctx, batchId, key.hash, {
    status: "failed",
    errorCode: "NEW_KEY_TEST_FAILED",
    errorMessage: error,
    result: { phase: "done", outcome: "failed" },
  });
  const detail =
    old === undefined
      ? "the new key failed its account test and no old key was given: left on the new key, paused by relay; rotate it again with another key"
      : "the new key failed its account test and the old key could not be put back: left on the new key, paused by relay";
  await event(run, a, "rotation.failed", `account #${a.account_id}: ${detail}`);
  return answer("failed", schedulable, detail, error);
}

/**
 * The update's answer never came (after the client's retries): the same body is sent once more
 * (the same body twice gives the same result); if that fails too and the old key is known, the
 * old key goes back so the account is as it was. True when the new key is known to be in place.
 */
async function settleUncertainWrite(
  run: RotationRun,
  a: RotationPlanAccount,
  key: IntakeKey,
  oldKeyHash: string,
): Promise<boolean> {
  const { adapter } = run.internals;
  const fields = run.internals.onHost.get(a.account_id)?.credentialFields ?? {};
  try {
    await adapter.updateAccountCredentials(a.account_id, { ...fields, api_key: key.secret });
    return true;
  } catch (err) {
    if (!isHostError(err)) throw err;
  }
  const old = run.internals.oldKeys.get(oldKeyHash);
  if (old !== undefined)
    await adapter
      .updateAccountCredentials(a.account_id, { ...fields, api_key: old })
      .catch((err: unknown) => {
        if (!isHostError(err)) throw err;
      });
  return false;
}

/** The host refused the credentials update, or its answer never came. */
async function notWritten(
  run: RotationRun,
  a: RotationPlanAccount,
  key: IntakeKey,
  error: string,
  answer: Answer,
  refused: boolean,
) {
  await setItem(run.ctx, run.batchId, key.hash, {
    status: "failed",
    errorCode: refused ? "CREDENTIALS_REFUSED" : "CREDENTIALS_UNCONFIRMED",
    errorMessage: error,
    result: { phase: "done", outcome: "failed" },
  });
  const detail = refused
    ? `the host refused the new key (${error}); the account keeps its old key`
    : `the host did not confirm the new key (${error}); the account may hold either key — run the rotation again for #${a.account_id} once the host answers`;
  await event(run, a, "rotation.failed", `account #${a.account_id}: ${detail}`);
  return answer("failed", a.schedulable, detail, error);
}

async function event(run: RotationRun, a: RotationPlanAccount, kind: string, message: string) {
  await appendEvent(run.ctx, {
    kind,
    message,
    batchId: run.batchId,
    hostId: run.internals.host.id,
    providerId: run.internals.def.provider_id,
    data: { account_id: a.account_id },
  });
}
