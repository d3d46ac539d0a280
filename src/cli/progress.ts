import cliProgress from "cli-progress";
import type { ProgressEvent } from "../provision/types.js";
import { printable } from "../util/sanitize.js";

export interface ProgressOutput {
  onProgress: (event: ProgressEvent) => void;
  /** Ends the output (the terminal line is cleared); call before the summary is printed. */
  stop: () => void;
}

const LABEL: Record<ProgressEvent["phase"], string> = {
  plan: "preview",
  precheck: "pre-check",
  group: "group",
  channel: "channel",
  plan_resource: "payment plan",
  accounts: "accounts",
  test: "tests",
  subscriptions: "subscriptions",
  rollback: "rollback",
  done: "finishing",
};

/** What the import has done so far: the newest message and each counted phase's done/total. */
class Tally {
  phase: ProgressEvent["phase"] = "plan";
  message = "";
  readonly counts = new Map<ProgressEvent["phase"], { done: number; total: number }>();

  take(e: ProgressEvent) {
    this.phase = e.phase;
    // A counted event's message is per key (a mask and a verdict): not shown; the summary lists failures.
    this.message = e.total === undefined ? printable(e.message, { max: 120 }) : "";
    if (e.total !== undefined) this.counts.set(e.phase, { done: e.done ?? 0, total: e.total });
  }

  line(): string {
    const counted = [...this.counts].map(([p, c]) => `${LABEL[p]} ${c.done}/${c.total}`);
    const now = this.counts.get(this.phase);
    const bar = now && now.total > 0 ? ` ${bar20(now.done / now.total)}` : "";
    return [`${LABEL[this.phase]}${bar}`, ...counted, ...(this.message ? [this.message] : [])].join("  ·  ");
  }
}

const bar20 = (fraction: number) => {
  const filled = Math.max(0, Math.min(20, Math.round(fraction * 20)));
  return `[${"=".repeat(filled)}${" ".repeat(20 - filled)}]`;
};

/**
 * An import's progress for people, on stderr: on a terminal one line redrawn in place
 * (cli-progress: throttled, cut to the terminal's width, cleared at the end); elsewhere (a log, a
 * pipe) a bounded number of lines — one when each phase starts and one per tenth of a counted
 * phase's work done. Nothing under `--json`.
 */
export function importProgress(
  options: { json: boolean; stream?: NodeJS.WriteStream } = { json: false },
): ProgressOutput {
  const stream = options.stream ?? process.stderr;
  if (options.json) return { onProgress: () => {}, stop: () => {} };
  return stream.isTTY ? terminalLine(stream) : boundedLines(stream);
}

function terminalLine(stream: NodeJS.WriteStream): ProgressOutput {
  const tally = new Tally();
  const bar = new cliProgress.SingleBar({
    stream,
    format: () => tally.line(),
    // The cursor stays visible: an import stopped with Ctrl-C must not leave the terminal without one.
    hideCursor: false,
    clearOnComplete: true,
    linewrap: false,
    fps: 8,
  });
  let started = false;
  return {
    onProgress(e) {
      tally.take(e);
      if (!started) {
        bar.start(1, 0);
        started = true;
      } else bar.update(0);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function boundedLines(stream: NodeJS.WriteStream): ProgressOutput {
  const seen = new Set<ProgressEvent["phase"]>();
  const tenths = new Map<ProgressEvent["phase"], number>();
  return {
    onProgress(e) {
      const label = LABEL[e.phase];
      if (!seen.has(e.phase)) {
        seen.add(e.phase);
        const what = e.total === undefined ? printable(e.message, { max: 200 }) : "started";
        stream.write(`  ${label}: ${what}\n`);
      }
      if (e.total === undefined || e.total === 0) return;
      // By work done, never by time; a step is written once even when a phase's total grows.
      const step = Math.floor(((e.done ?? 0) / e.total) * 10);
      if (step > (tenths.get(e.phase) ?? 0)) {
        tenths.set(e.phase, step);
        stream.write(`  ${label}: ${e.done ?? 0}/${e.total} (${step * 10}%)\n`);
      }
    },
    stop() {},
  };
}
