import type { RollbackPreview } from "../../../provision/rollback.js";
import type { BatchView } from "../../../store/batches.js";
import { keyValues, table } from "../../format.js";

export function renderBatch(b: BatchView): string {
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
export function renderRollbackPreview(p: RollbackPreview): string {
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
