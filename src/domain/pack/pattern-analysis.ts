import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import pLimit from "p-limit";
import { projectRoot } from "../../util/paths.js";
import type { AnalysisAnswer, AnalysisRequest } from "./pattern-worker.js";

/** Heap of one analysis: recheck's automata for a 256-character pattern fit well within it. */
const WORKER_HEAP_MB = 256;

/** One analysis at a time per process: each takes a core for as long as it runs. */
const oneAtATime = pLimit(1);

let workerFile: string | undefined;
function findWorker(): string {
  // The bundle's own entry, or tsc's output (tests run after the build).
  workerFile ??= ["dist/bin/pattern-worker.mjs", "dist/src/domain/pack/pattern-worker.js"]
    .map((f) => join(projectRoot(), f))
    .find((f) => existsSync(f));
  if (!workerFile) throw new Error("the key-pattern analysis worker is not built: run `npm run build`");
  return workerFile;
}

export type AnalysisOutcome = AnalysisAnswer | { status: "failed"; message: string };

/**
 * recheck's verdict on one pattern within `budget` checkpoints, from a worker thread started for
 * it and ended after the answer. A fresh worker per pattern keeps the count exact: its heap, and
 * Scala.js's identity hash codes (which order recheck's hash maps), start from nothing each time.
 * Never rejects: a worker that fails (out of memory, not built) is an outcome too.
 */
export function analysePattern(pattern: string, budget: number): Promise<AnalysisOutcome> {
  return oneAtATime(
    () =>
      new Promise<AnalysisOutcome>((resolve) => {
        let worker: Worker;
        try {
          const request: AnalysisRequest = { pattern, budget };
          worker = new Worker(findWorker(), {
            workerData: request,
            resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
            stdout: true,
            stderr: true,
          });
        } catch (err) {
          resolve({ status: "failed", message: (err as Error).message });
          return;
        }
        let answered = false;
        worker.once("message", (answer: AnalysisAnswer) => {
          answered = true;
          resolve(answer);
          void worker.terminate();
        });
        worker.once("error", (err) => {
          answered = true;
          resolve({ status: "failed", message: err.message });
        });
        worker.once("exit", (code) => {
          if (!answered) resolve({ status: "failed", message: `the analysis stopped (exit ${code})` });
        });
      }),
  );
}
