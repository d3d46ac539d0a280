import type { AccessState } from "./access.js";
import type { BatchStatus } from "./status.js";

/**
 * What just happened to a batch, as import, rollback and recovery report it. The batch's status
 * and reason follow from it and the status it had: nobody else decides them (design §5 and §7,
 * style rule 15).
 */
export type BatchEvent =
  /** The saga ran to its end: counts of the batch's keys and of refused subscriptions. */
  | {
      kind: "import_finished";
      working: number;
      failed: number;
      skipped: number;
      refusedSubscriptions: number;
      /** The access proof's verdict; undefined while it has not run (or could not). */
      access?: AccessState;
    }
  /** A step failed (or something unexpected was thrown): the rollback follows. */
  | { kind: "import_failed"; why: string }
  | { kind: "rollback_started"; reason: string }
  /** Some deletes failed: the batch stays failed (resumable), with what failed. */
  | { kind: "rollback_incomplete"; failures: string[] }
  | { kind: "rollback_done"; reason: string }
  /** Recovery of an interrupted partial import kept its tested accounts and removed the rest. */
  | { kind: "recovery_kept"; kept: number }
  /** A model migration (`relay provider migrate`) wrote its mapping changes: how many took, how many not. */
  | { kind: "migration_finished"; applied: number; failed: number; aliases: string[] }
  /** A batch found on the host after a database restore was recorded again (`--heal`). */
  | { kind: "restored_adopted"; batchId: string }
  /** A key rotation ran to its end: accounts on their new key, put back on their old one, failed. */
  | { kind: "rotation_finished"; rotated: number; restored: number; failed: number }
  /** A rotation a crash left running: its accounts are as the host shows them. */
  | { kind: "rotation_interrupted"; providerId: string };

export interface BatchFacts {
  /** The status the batch has now. */
  current: BatchStatus;
  event: BatchEvent;
}

export interface BatchState {
  status: BatchStatus;
  reason: string;
}

/** Which statuses each event may follow; anything else is a defect in the caller. */
const FROM: Record<BatchEvent["kind"], readonly BatchStatus[]> = {
  // Also from a finished import: the access proof's verdict is added to the reason afterwards.
  import_finished: ["running", "succeeded", "partially_succeeded"],
  // An unexpected error after the import was recorded finished still fails (and rolls back) it.
  import_failed: ["running", "succeeded", "partially_succeeded"],
  // A rollback may start from any unfinished or finished batch, or resume one that stopped.
  rollback_started: [
    "pending",
    "previewed",
    "running",
    "succeeded",
    "partially_succeeded",
    "failed",
    "rollback_running",
  ],
  rollback_incomplete: ["rollback_running"],
  rollback_done: ["rollback_running"],
  // Recovery removes the unfinished part with a rollback first, then records what it kept.
  recovery_kept: ["rolled_back"],
  migration_finished: ["running"],
  // `adoptRestored` inserts the batch (running) and records it finished before adopting into it.
  restored_adopted: ["running"],
  rotation_finished: ["running"],
  rotation_interrupted: ["running"],
};

/** Raised when an event does not fit the batch's status: a defect, never an operator's mistake. */
export class BatchTransitionRefused extends Error {
  constructor(current: BatchStatus, event: BatchEvent["kind"]) {
    super(`batch status: ${event} cannot follow ${current}`);
    this.name = "BatchTransitionRefused";
  }
}

/** The one place a batch status and its reason are decided. Pure: no clock, no store. */
export function nextBatchState({ current, event }: BatchFacts): BatchState {
  if (!FROM[event.kind].includes(current)) throw new BatchTransitionRefused(current, event.kind);
  switch (event.kind) {
    case "import_finished": {
      const { working, failed, skipped, refusedSubscriptions: refused } = event;
      const base = [
        `${working} working account(s)`,
        ...(failed > 0 ? [`${failed} failed`] : []),
        ...(skipped > 0 ? [`${skipped} skipped`] : []),
        ...(refused > 0 ? [`${refused} subscription(s) not assigned`] : []),
      ].join(", ");
      return {
        status: failed + skipped + refused > 0 ? "partially_succeeded" : "succeeded",
        reason: `${base}; access ${event.access ?? "not verified yet"}`,
      };
    }
    case "import_failed":
      return { status: "failed", reason: event.why };
    case "rollback_started":
      return { status: "rollback_running", reason: event.reason };
    case "rollback_incomplete":
      return { status: "failed", reason: `rollback incomplete: ${event.failures.join("; ")}` };
    case "rollback_done":
      return { status: "rolled_back", reason: event.reason };
    case "recovery_kept":
      return {
        status: "partially_succeeded",
        reason: `interrupted; recovery kept ${event.kept} tested account(s) and removed the rest; re-import the missing keys`,
      };
    case "migration_finished": {
      const what = `model migration (${event.aliases.join(", ")}): ${event.applied} mapping change(s) applied`;
      if (event.failed === 0) return { status: "succeeded", reason: what };
      return {
        status: event.applied > 0 ? "partially_succeeded" : "failed",
        reason: `${what}, ${event.failed} refused by the host; run the migration again, or roll it back`,
      };
    }
    case "restored_adopted":
      return {
        status: "succeeded",
        reason: `recorded again from the host after a database restore: what this installation made in it after the backup; \`relay batch rollback ${event.batchId}\` deletes it`,
      };
    case "rotation_finished": {
      const { rotated, restored, failed } = event;
      const parts = [
        `${rotated} account(s) on their new key`,
        ...(restored > 0 ? [`${restored} put back on their old key`] : []),
        ...(failed > 0 ? [`${failed} failed`] : []),
      ];
      return {
        status: restored + failed > 0 ? "partially_succeeded" : "succeeded",
        reason: parts.join(", "),
      };
    }
    case "rotation_interrupted":
      return {
        status: "failed",
        reason: `interrupted: its accounts are as the host shows them; \`relay provider rotate ${event.providerId}\` again with the keys not yet used`,
      };
  }
}
