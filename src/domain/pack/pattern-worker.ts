/**
 * One key-pattern analysis by recheck's automaton checker, in a worker thread of its own (started
 * by pattern-analysis.ts, ended after the answer), so the process's event loop never waits on it.
 *
 * The analysis is bounded by the work it does, not by time: recheck's Scala.js build reads the
 * clock only through `performance.now()`, once at each of its interruption checkpoints, and here
 * that clock advances one millisecond per reading. recheck's `timeout` (in milliseconds) thus
 * counts checkpoints, and an analysis stops after the same number of steps on an idle machine and
 * on a saturated one. The pure build is asked for explicitly: the native one runs in a process of
 * its own, on the real clock.
 */
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

export interface AnalysisRequest {
  pattern: string;
  /** Checkpoints the analysis may pass before it gives up. */
  budget: number;
}

export type AnalysisAnswer =
  | { status: "safe" }
  | { status: "vulnerable"; complexity: string }
  | { status: "unknown"; kind: string; message?: string };

let readings = 0;
performance.now = () => {
  readings += 1;
  return readings;
};
process.env.RECHECK_SYNC_BACKEND = "pure";

const recheck = createRequire(import.meta.url)("recheck") as typeof import("recheck");
const { pattern, budget } = workerData as AnalysisRequest;
const r = recheck.checkSync(pattern, "", { checker: "automaton", timeout: budget });
const answer: AnalysisAnswer =
  r.status === "safe"
    ? { status: "safe" }
    : r.status === "vulnerable"
      ? { status: "vulnerable", complexity: r.complexity.type }
      : {
          status: "unknown",
          kind: r.error.kind,
          ...("message" in r.error ? { message: r.error.message } : {}),
        };
parentPort?.postMessage(answer);
