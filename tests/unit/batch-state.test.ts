import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BatchEvent, BatchTransitionRefused, nextBatchState } from "../../src/domain/batch-state.js";
import type { BatchStatus } from "../../src/domain/status.js";

const finished = (over: Partial<Extract<BatchEvent, { kind: "import_finished" }>> = {}): BatchEvent => ({
  kind: "import_finished",
  working: 3,
  failed: 0,
  skipped: 0,
  refusedSubscriptions: 0,
  ...over,
});

describe("nextBatchState: the one place a batch's status and reason are decided", () => {
  const table: {
    name: string;
    current: BatchStatus;
    event: BatchEvent;
    status: BatchStatus;
    reason: string;
  }[] = [
    {
      name: "every key works",
      current: "running",
      event: finished(),
      status: "succeeded",
      reason: "3 working account(s); access not verified yet",
    },
    {
      name: "the access proof adds its verdict to a finished import",
      current: "succeeded",
      event: finished({ access: "subscription_ready" }),
      status: "succeeded",
      reason: "3 working account(s); access subscription_ready",
    },
    {
      name: "a failed key makes it partial",
      current: "running",
      event: finished({ failed: 2 }),
      status: "partially_succeeded",
      reason: "3 working account(s), 2 failed; access not verified yet",
    },
    {
      name: "a skipped key makes it partial",
      current: "running",
      event: finished({ skipped: 1 }),
      status: "partially_succeeded",
      reason: "3 working account(s), 1 skipped; access not verified yet",
    },
    {
      name: "a refused subscription makes it partial",
      current: "running",
      event: finished({ refusedSubscriptions: 1, access: "broken" }),
      status: "partially_succeeded",
      reason: "3 working account(s), 1 subscription(s) not assigned; access broken",
    },
    {
      name: "a step fails",
      current: "running",
      event: { kind: "import_failed", why: "accounts: no account works" },
      status: "failed",
      reason: "accounts: no account works",
    },
    {
      name: "a failed import is rolled back",
      current: "failed",
      event: { kind: "rollback_started", reason: "import failed; rolled back" },
      status: "rollback_running",
      reason: "import failed; rolled back",
    },
    {
      name: "a rollback that stopped is resumed",
      current: "rollback_running",
      event: { kind: "rollback_started", reason: "again" },
      status: "rollback_running",
      reason: "again",
    },
    {
      name: "a rollback finishes",
      current: "rollback_running",
      event: { kind: "rollback_done", reason: "rolled back on request" },
      status: "rolled_back",
      reason: "rolled back on request",
    },
    {
      name: "a rollback stops half-way",
      current: "rollback_running",
      event: { kind: "rollback_incomplete", failures: ["account: 500", "group: 500"] },
      status: "failed",
      reason: "rollback incomplete: account: 500; group: 500",
    },
    {
      name: "recovery keeps the tested accounts of a partial import",
      current: "rolled_back",
      event: { kind: "recovery_kept", kept: 2 },
      status: "partially_succeeded",
      reason:
        "interrupted; recovery kept 2 tested account(s) and removed the rest; re-import the missing keys",
    },
  ];
  for (const c of table)
    it(c.name, () => {
      expect(nextBatchState({ current: c.current, event: c.event })).toEqual({
        status: c.status,
        reason: c.reason,
      });
    });

  const refused: [BatchStatus, BatchEvent][] = [
    ["rolled_back", { kind: "rollback_started", reason: "x" }],
    ["rolled_back", finished()],
    ["failed", finished()],
    ["running", { kind: "rollback_done", reason: "x" }],
    ["succeeded", { kind: "rollback_incomplete", failures: [] }],
    ["running", { kind: "recovery_kept", kept: 1 }],
    ["rollback_running", { kind: "import_failed", why: "x" }],
  ];
  for (const [current, event] of refused)
    it(`refuses ${event.kind} after ${current}`, () => {
      expect(() => nextBatchState({ current, event })).toThrow(BatchTransitionRefused);
    });
});

describe("batch status has one writer", () => {
  it("only steps/batch-status.ts calls setBatchStatus, and it asks nextBatchState", () => {
    const callers: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (path.endsWith(".ts") && /\bsetBatchStatus\(/.test(readFileSync(path, "utf8")))
          callers.push(path);
      }
    };
    walk("src");
    expect(callers.sort()).toEqual(["src/steps/batch-status.ts", "src/store/batches.ts"]);
    expect(readFileSync("src/steps/batch-status.ts", "utf8")).toMatch(/nextBatchState\(/);
  });
});
