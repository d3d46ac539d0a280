import { isHostError } from "../host/sub2api/index.js";
import { setItem } from "../store/batches.js";
import { inTransaction } from "../store/db.js";
import { mapLimit } from "../util/concurrency.js";
import { describe, type SagaContext, StepFailed } from "./saga.js";

/** Whether this import checks its new keys against the upstream before any host write. */
function precheckWanted(s: SagaContext): boolean {
  const available = s.internals.caps.models_preview;
  // Partial imports check by default: a key the upstream refuses is then never created. Strict
  // imports ask for it (it doubles the calls per key; a bad key rolls the batch back anyway).
  return available && (s.req.precheck ?? s.req.mode === "partial");
}

/**
 * Step 0 of the saga, before the group exists: each key to be created is shown to its upstream
 * through `sync-upstream-preview`, which stores nothing on the host. A key the upstream refuses
 * (401/403 behind the host's 502) is marked failed and left out of the plan; any other answer
 * (a platform that cannot list models, a host error) proves nothing and the key goes on to its
 * account test. Strict mode stops before any write when a key is refused.
 */
export async function precheckKeys(s: SagaContext): Promise<void> {
  if (!precheckWanted(s)) return;
  const { ctx, req, options, progress, internals, planned, batchId, warnings } = s;
  const { adapter, mapping, keys } = internals;
  const toCheck = keys.filter((k) => planned.get(k.position)?.action === "create");
  const refused: { hash: string; position: number; mask: string; reason: string }[] = [];
  let inconclusive = 0;
  let done = 0;
  await mapLimit(toCheck, options.testConcurrency ?? ctx.config.hostConcurrency, async (key) => {
    try {
      await adapter.previewUpstreamModels({
        platform: mapping.platform,
        baseUrl: mapping.baseUrl,
        apiKey: key.secret,
      });
    } catch (err) {
      if (upstreamRefusedKey(err)) {
        refused.push({ hash: key.hash, position: key.position, mask: key.mask, reason: describe(err) });
      } else {
        inconclusive += 1;
      }
    }
    done += 1;
    progress({ phase: "precheck", message: `${key.mask}: checked`, done, total: toCheck.length });
  });
  if (inconclusive > 0) {
    warnings.push(
      `${inconclusive} key(s) could not be pre-checked with their upstream; their account tests decide`,
    );
  }
  if (refused.length === 0) return;
  inTransaction(ctx, () => {
    for (const r of refused) {
      setItem(ctx, batchId, r.hash, {
        status: "failed",
        errorCode: "KEY_REFUSED_BY_UPSTREAM",
        errorMessage: r.reason,
      });
      planned.delete(r.position);
    }
  });
  if (req.mode === "strict") {
    throw new StepFailed("key precheck", `${refused.map((r) => r.mask).join(", ")} refused by the upstream`);
  }
}

/** The host's 502 carrying the upstream's 401/403: the key itself is bad. */
function upstreamRefusedKey(err: unknown): boolean {
  if (!isHostError(err) || err.status !== 502) return false;
  return /\b(401|403)\b|unauthori[sz]ed|invalid[_ ]api[_ ]key|authentication/i.test(err.message);
}
