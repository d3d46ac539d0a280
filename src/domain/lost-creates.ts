import { parseOwnership } from "./naming.js";

export type OrphanAction = "adopt" | "delete" | "report";

/** What relay knows of a resource it may have made: its record and the batch that record belongs to. */
export interface OrphanRecord {
  state: string;
  hostResourceId: number | null;
  batchId: string | null;
}

/**
 * What relay sent when it made the resource: the exact name and, in `description`/`notes`, the
 * tag naming this installation, the provider and the batch.
 */
export interface Sent {
  installId: string;
  providerId: string;
}

/**
 * A create relay itself left unresolved: the intent is recorded (under the exact name sent) and no
 * host id ever came back — the answer was lost (`create_pending`), or the lookup that followed did
 * not find it yet (`gone`: it landed late). A record whose create was answered with a host id is
 * resolved: another object under that name is not relay's, whatever it claims.
 */
export function unresolvedCreate(record: OrphanRecord): boolean {
  return record.hostResourceId === null && (record.state === "create_pending" || record.state === "gone");
}

/** Whether the host object carries the tag relay sent with that create: this install, provider and batch. */
export function carriesOurTag(tag: string | undefined, record: OrphanRecord, sent: Sent): boolean {
  const t = parseOwnership(tag);
  return (
    t !== undefined &&
    t.installId === sent.installId &&
    t.providerId === sent.providerId &&
    record.batchId !== null &&
    t.batchId === record.batchId
  );
}

/**
 * What reconcile does with an object on the host that carries this installation's name but that no
 * live record points to (#29 R4). Only a create relay itself left unresolved, matched by name (the
 * caller's lookup) **and** by the tag it sent, is settled: adopted into its batch while that batch
 * is live, deleted once the batch is rolled back or failed. Everything else — no record by that
 * name, a record whose create was answered (an operator's look-alike in place of a resource relay
 * made and someone deleted), a missing or forged tag, a batch mid-way (recovery owns that) — is
 * reported and left alone.
 */
export function orphanAction(
  record: OrphanRecord | undefined,
  batchStatus: string | undefined,
  tag: string | undefined,
  sent: Sent,
): OrphanAction {
  if (!record || !batchStatus) return "report";
  if (!unresolvedCreate(record) || !carriesOurTag(tag, record, sent)) return "report";
  if (batchStatus === "succeeded" || batchStatus === "partially_succeeded") return "adopt";
  if (batchStatus === "rolled_back" || batchStatus === "failed") return "delete";
  return "report";
}
