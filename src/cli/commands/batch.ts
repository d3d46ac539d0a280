import type { Command } from "commander";
import { ExitCode } from "../../domain/errors.js";
import type { RecoveryOutcome } from "../../provision/recover.js";
import type { RollbackPreview } from "../../provision/rollback.js";
import type { BatchSummaryView, BatchView } from "../../store/batches.js";
import { printable } from "../../util/sanitize.js";
import { confirmOrRefuse } from "../confirm.js";
import { keyValues, table } from "../format.js";
import { runCommand, runReadOnly } from "../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadRecover = () => import("../../provision/recover.js");
const loadRollback = () => import("../../provision/rollback.js");
const loadBatches = () => import("../../store/batches.js");
const loadHosts = () => import("../../store/hosts.js");

function renderBatch(b: BatchView): string {
  return [
    keyValues([
      ["batch", b.batch_id],
      ["provider", `${b.provider_id} (pack ${b.pack_version})`],
      ["host", b.host_name === b.host_id ? b.host_id : `${b.host_name} (${b.host_id})`],
      b.kind === "rotation"
        ? ["kind", "key rotation in place (each key is a new key, given to the account in its result)"]
        : b.kind === "model_migration"
          ? [
              "kind",
              `model migration (${b.changes.map((c) => `${c.target} ${c.name}: ${c.state}`).join(", ")})`,
            ]
          : ["mode", `${b.mode}${b.access_mode ? `, access ${b.access_mode}` : ""}`],
      ["status", `${b.status.toUpperCase()} — ${b.status_reason}`],
      ["created", b.created_at],
      [b.kind === "import" ? "import took" : "took", b.duration_ms === null ? null : `${b.duration_ms} ms`],
    ]),
    "",
    table(
      ["LINE", "KEY", "STATUS", "ERROR"],
      b.keys.map((k) => [
        typeof k.result.line === "number" ? k.result.line : null,
        k.key,
        k.status,
        k.error ? `${k.error_code}: ${k.error}` : null,
      ]),
    ),
    "",
    table(
      ["RESOURCE", "NAME", "HOST ID", "STATE", "ORIGIN"],
      b.resources.map((r) => [r.type, r.name, r.host_resource_id, r.state, r.origin]),
    ),
  ].join("\n");
}

function renderWouldDelete(
  id: string,
  rows: { type: string; name: string; host_resource_id: number | null }[],
) {
  if (rows.length === 0) return `batch ${id}: nothing of it is left on the host to delete`;
  return [
    `batch ${id}: a rollback deletes, in this order:`,
    table(
      ["RESOURCE", "NAME", "HOST ID"],
      rows.map((r) => [r.type, r.name, r.host_resource_id]),
    ),
  ].join("\n");
}

/** A rollback's dry run: what it deletes, or for a model migration the mappings it puts back. */
function renderRollbackPreview(p: RollbackPreview): string {
  if (!p.would_restore) return renderWouldDelete(p.batch_id, p.would_delete);
  if (p.would_restore.length === 0) return `batch ${p.batch_id}: no mapping of it is left to restore`;
  return [
    `batch ${p.batch_id} (model migration): a rollback puts back these model mappings:`,
    table(
      ["RESOURCE", "NAME", "HOST ID", "MODEL_MAPPING"],
      p.would_restore.map((r) => [r.type, r.name, r.host_resource_id, JSON.stringify(r.model_mapping)]),
    ),
  ].join("\n");
}

export function configureBatchCommand(program: Command) {
  const batch = program.command("batch").description("inspect, roll back and recover import batches");

  batch
    .command("list")
    .option("--provider <provider_id>", "only this provider")
    .option("--host <host>", "only this host")
    .description("list import batches, newest first")
    .addHelpText("after", "\nExample:\n  relay batch list --provider deepseek")
    .action(async (opts: { provider?: string; host?: string }, cmd: Command) => {
      await runReadOnly<{ items: BatchSummaryView[] }>(cmd, async (ctx) => {
        const hostId = opts.host ? (await (await loadHosts()).findHost(ctx, opts.host)).id : undefined;
        const items = await (await loadBatches()).listBatches(ctx, {
          ...(opts.provider ? { providerId: opts.provider } : {}),
          ...(hostId ? { hostId } : {}),
        });
        return {
          data: { items },
          human: () =>
            items.length === 0
              ? "no import batches"
              : table(
                  ["BATCH", "PROVIDER", "HOST", "KIND", "MODE", "STATUS", "KEYS", "CREATED", "REASON"],
                  items.map((b) => [
                    b.batch_id,
                    b.provider_id,
                    b.host_name,
                    b.kind,
                    b.kind === "model_migration" ? "-" : b.mode,
                    b.status,
                    b.changes === null ? b.keys : `- (${b.changes} mappings)`,
                    b.created_at,
                    b.status_reason,
                  ]),
                ),
        };
      });
    });

  batch
    .command("show")
    .argument("<batch_id>", "batch id, as `relay batch list` shows it")
    .description("show a batch: per-key results, resources, probes and timings")
    .addHelpText("after", "\nExample:\n  relay batch show b_20261121_0a1b2c3d4e")
    .action(async (id: string, _opts, cmd: Command) => {
      await runReadOnly<BatchView>(cmd, async (ctx) => ({
        data: await (await loadBatches()).getBatch(ctx, id),
        human: renderBatch,
      }));
    });

  batch
    .command("rollback")
    .argument("<batch_id>", "batch id, as `relay batch list` shows it")
    .description(
      "delete what the batch created, in reverse order (a model migration: restore the previous mappings); safe to run again",
    )
    .option("--dry-run", "list what would be deleted, in order; change nothing")
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .addHelpText(
      "after",
      "\nExit codes: 0 rolled back (or the dry run listed), 1 refused, cancelled or incomplete (run it again).\n\nExamples:\n  relay batch rollback b_20261121_0a1b2c3d4e --dry-run\n  relay batch rollback b_20261121_0a1b2c3d4e --yes --json",
    )
    .action(async (id: string, opts: { dryRun?: boolean; yes?: boolean }, cmd: Command) => {
      const rollback = await loadRollback();
      if (opts.dryRun) {
        await runReadOnly<RollbackPreview>(cmd, async (ctx) => ({
          data: await rollback.rollbackPreview(ctx, id),
          human: renderRollbackPreview,
        }));
        return;
      }
      await runCommand<BatchView>(cmd, async (ctx) => {
        const preview = await rollback.rollbackPreview(ctx, id);
        const question = preview.would_restore
          ? "Restore these mappings on the host? [y/N] "
          : "Delete these from the host? [y/N] ";
        await confirmOrRefuse(opts.yes === true, question, () =>
          printable(renderRollbackPreview(preview), { lines: true }),
        );
        const started = Date.now();
        const view = await rollback.rollbackBatch(ctx, id, {
          onProgress: (m) => process.stderr.isTTY && process.stderr.write(`  ${printable(m)}\n`),
        });
        return { data: view, human: (b) => `rolled back in ${Date.now() - started} ms\n${renderBatch(b)}` };
      });
    });

  batch
    .command("recover")
    .description("finish batches a crash left running (strict: roll back; partial: keep tested accounts)")
    .addHelpText("after", "\nExample:\n  relay batch recover --json")
    .action(async (_opts, cmd: Command) => {
      await runCommand<{ items: RecoveryOutcome[] }>(cmd, async (ctx) => {
        const items = await (await loadRecover()).recoverBatches(ctx);
        return {
          data: { items },
          human: () =>
            items.length === 0
              ? "nothing to recover"
              : table(
                  ["BATCH", "WAS", "NOW", "ACTION", "DETAIL"],
                  items.map((o) => [o.batch_id, o.previous_status, o.status, o.action, o.detail]),
                ),
          exitCode: items.some((o) => o.action === "rollback_failed" || o.action === "settle_failed")
            ? ExitCode.error
            : ExitCode.ok,
        };
      });
    });
}
