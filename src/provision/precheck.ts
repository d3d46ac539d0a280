import { AppError } from "../domain/errors.js";
import { isHostError } from "../host/sub2api/index.js";
import { setItem } from "../store/batch-items.js";
import { inTransaction } from "../store/db.js";
import { mapLimit } from "../util/concurrency.js";
import { describe, type SagaContext, StepFailed } from "./saga.js";
import { type KeyTriage, previewAnswer, READY, triageAnswer } from "./triage.js";
import type { ImportPlan, PlanInternals, PlannedKeyTriage } from "./types.js";

/**
 * Before the batch opens: one key shown to its upstream through the host's model preview, which
 * validates the base URL as the account test does. A host with `security.url_allowlist.enabled`
 * whose `upstream_hosts` lack the provider's host (or that refuses plain http) answers 400
 * "Invalid OpenAI base URL" to the preview (seen live on 67380eafd, 2026-12-02) and "Invalid base
 * URL: …" to the account test
 * (account_test_service.go:185-200,332-336, config.go:2021-2033@67380eafd; the defaults list no
 * api.deepseek.com, dashscope.aliyuncs.com or api.minimax.io). Without this check such an import
 * creates its group and accounts, fails every test and rolls back; with it, nothing is written.
 * Any other answer proves nothing here and is left to the key pre-check and the account tests.
 */
export async function refuseDisallowedBaseUrl(internals: PlanInternals, plan: ImportPlan): Promise<void> {
  const { adapter, caps, mapping, keys, host } = internals;
  if (!caps.models_preview) return;
  const creating = new Set(plan.keys.filter((k) => k.action === "create").map((k) => k.position));
  const key = keys.find((k) => creating.has(k.position));
  if (!key) return;
  try {
    await adapter.previewUpstreamModels({
      platform: mapping.platform,
      baseUrl: mapping.baseUrl,
      apiKey: key.secret,
    });
  } catch (err) {
    // "Invalid OpenAI base URL" on 67380eafd (seen live); "Invalid base URL: …" in the account test.
    if (!isHostError(err) || err.status !== 400 || !/invalid (?:\w+ )?base url/i.test(err.message)) return;
    const upstreamHost = new URL(mapping.baseUrl).hostname;
    throw new AppError(
      "host_unsupported",
      "BASE_URL_NOT_ALLOWED",
      `host "${host.name}" refuses ${internals.def.provider_id}'s base URL ${mapping.baseUrl}: ${upstreamHost} is not in its security.url_allowlist.upstream_hosts, or the allowlist requires https (${describe(err)})`,
      {
        hint: `Add ${upstreamHost} to security.url_allowlist.upstream_hosts in sub2api's config (or turn security.url_allowlist.enabled off), restart sub2api, then import again.`,
        details: {
          reason_code: "BASE_URL_NOT_ALLOWED",
          host_setting: "security.url_allowlist.upstream_hosts",
          upstream_host: upstreamHost,
        },
      },
    );
  }
}

/** Whether this import checks its new keys against the upstream before any host write. */
function precheckWanted(s: SagaContext): boolean {
  const available = s.internals.caps.models_preview;
  // Partial imports check by default: a key the upstream refuses is then never created. Strict
  // imports ask for it (it doubles the calls per key; a bad key rolls the batch back anyway).
  return available && (s.req.precheck ?? s.req.mode === "partial");
}

/**
 * Step 0 of the saga, before the group exists: each key to be created is shown to its upstream
 * through `sync-upstream-preview`, which stores nothing on the host. The host relays the
 * upstream's HTTP status only (not its body), so a key is left out of the plan only when its
 * status alone decides its class under the provider's `key_triage` rules (revoked, wrong region,
 * no balance, rate limited); any other answer proves nothing and the key goes on to its account
 * test, which sees the body. Strict mode stops before any write when a key is left out.
 */
export async function precheckKeys(s: SagaContext): Promise<void> {
  if (!precheckWanted(s)) return;
  const { ctx, req, options, progress, internals, planned, batchId, warnings } = s;
  const toCheck = internals.keys.filter((k) => planned.get(k.position)?.action === "create");
  const refused: { hash: string; position: number; mask: string; triage: KeyTriage }[] = [];
  let inconclusive = 0;
  let done = 0;
  await mapLimit(toCheck, options.testConcurrency ?? ctx.config.hostConcurrency, async (key) => {
    const triage = await precheckOne(ctx, internals, key.secret);
    if (triage === undefined) inconclusive += 1;
    else if (triage !== "passed")
      refused.push({ hash: key.hash, position: key.position, mask: key.mask, triage });
    done += 1;
    progress({ phase: "precheck", message: `${key.mask}: checked`, done, total: toCheck.length });
  });
  if (inconclusive > 0) {
    warnings.push(
      `${inconclusive} key(s) could not be pre-checked with their upstream; their account tests decide`,
    );
  }
  if (refused.length === 0) return;
  await inTransaction(ctx, async (tx) => {
    for (const r of refused) {
      await setItem(tx, batchId, r.hash, {
        status: "failed",
        errorCode: "KEY_REFUSED_BY_UPSTREAM",
        errorMessage: r.triage.reason,
        result: { triage: r.triage },
      });
      planned.delete(r.position);
    }
  });
  if (req.mode === "strict") {
    throw new StepFailed(
      "key precheck",
      `${refused.map((r) => `${r.mask} (${r.triage.class})`).join(", ")} refused by the upstream`,
    );
  }
}

/** "passed", the triage of a key its status decides, or undefined when the answer proves nothing. */
export async function precheckOne(
  ctx: SagaContext["ctx"],
  internals: PlanInternals,
  secret: string,
): Promise<"passed" | KeyTriage | undefined> {
  const answer = await previewAnswer(internals, internals.def, secret);
  if (!answer) return undefined;
  if (answer.status === 200) return "passed";
  const { ambiguous: _ambiguous, ...triage } = await triageAnswer(ctx, internals, secret, answer);
  return triage.class === "unknown" ? undefined : triage;
}

/**
 * Preview with `precheck`: every key the plan would create shown to its upstream, nothing written
 * anywhere. "ready" here means the upstream accepted the key for listing models; the account
 * test at import also makes a chat call, which is where an empty balance shows.
 */
export async function previewTriage(
  ctx: SagaContext["ctx"],
  internals: PlanInternals,
  plan: ImportPlan,
): Promise<PlannedKeyTriage[]> {
  if (!internals.caps.models_preview) return [];
  const byPosition = new Map(internals.keys.map((k) => [k.position, k]));
  const creating = plan.keys.filter((k) => k.action === "create");
  const out: PlannedKeyTriage[] = [];
  await mapLimit(creating, ctx.config.hostConcurrency, async (k) => {
    const key = byPosition.get(k.position);
    if (!key) return;
    const t = await precheckOne(ctx, internals, key.secret);
    const triage: KeyTriage =
      t === "passed"
        ? {
            ...READY,
            reason:
              "the provider accepted the key (models listed); the import's account test makes a chat call",
          }
        : (t ?? {
            class: "unknown",
            reason: "the model preview proves nothing for this key; its account test at import decides",
            next_step: "none before the import",
            suggested_provider: null,
            upstream_status: null,
          });
    const { upstream_status: _s, ...shown } = triage;
    out.push({ position: k.position, line: k.line, key: k.key, ...shown });
  });
  return out.sort((a, b) => a.position - b.position);
}
