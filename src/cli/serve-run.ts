import type { Server } from "node:http";
import type { Command } from "commander";
import { createContext } from "../app/context.js";
import { describeStore, storeOptions, storeTarget } from "../config/index.js";
import { isLoopback } from "../hosts/hosts.js";
import { recoverBatches } from "../provision/recover.js";
import { closeDb, openDb } from "../store/db.js";
import { createLogger } from "../util/logger.js";
import { startScheduler } from "../worker/scheduler.js";
import { globalOptions, loadCliConfig, reportError } from "./run.js";

/** `relay serve`: the HTTP API, the scheduler and recovery of interrupted batches. */
export async function runServe(cmd: Command): Promise<void> {
  const opts = globalOptions(cmd);
  try {
    // Loaded here, not at start-up: the other commands never need the HTTP stack.
    const [{ serve }, { createApp }] = await Promise.all([
      import("@hono/node-server"),
      import("../api/http/app.js"),
    ]);
    const config = loadCliConfig(opts, { requireApiToken: true });
    const logger = createLogger(config.logLevel);
    const db = await openDb(storeTarget(config), storeOptions(config));
    const ctx = await createContext({ db, config, logger, processMetrics: true });
    const scheduler = await startScheduler(ctx, config.reconcileCron, config.reconcileJitterMs);
    const work = new InFlight();
    let draining = false;
    const app = createApp(ctx, {
      isLeader: () => scheduler.isLeader(),
      isDraining: () => draining,
      track: (p, label) => work.track(p, label),
    });
    // Batches a crash left unfinished are finished first (strict: rolled back; partial: tested accounts kept).
    work.track(
      recoverBatches(ctx)
        .then((outcomes) => {
          for (const o of outcomes) logger.warn({ ...o }, "recovered an interrupted batch");
        })
        .catch((err) => logger.error({ err }, "batch recovery failed; run `relay batch recover`")),
      "recovery",
    );
    logger.info(
      { cron: config.reconcileCron, next: scheduler.nextRun()?.toISOString(), leader: scheduler.isLeader() },
      "reconcile scheduler started",
    );
    const server = serve(
      { fetch: app.fetch, hostname: config.listen.host, port: config.listen.port },
      (info) => {
        logger.info(
          { address: info.address, port: info.port, store: describeStore(config) },
          "relay API listening",
        );
        if (!isLoopback(config.listen.host))
          logger.warn(
            { address: config.listen.host },
            "the API listens beyond this machine over plain HTTP: the bearer token crosses the network unencrypted; put a TLS proxy in front or listen on 127.0.0.1",
          );
      },
    );
    server.on("error", (err) => {
      logger.fatal({ err }, "cannot listen");
      process.exit(1);
    });
    // A stop drains: no new work (readyz and /api writes answer 503), the accepted imports and the
    // running tick go on for up to RELAY_SHUTDOWN_GRACE_MS, then the process exits 0; what is still
    // running then is left to recovery (the next start, or the replica leading the schedule).
    // A second signal stops at once.
    const stop = async (signal: string) => {
      if (draining) {
        logger.warn({ signal }, "second stop signal: exiting now; recovery finishes what was running");
        process.exit(1);
      }
      draining = true;
      logger.info({ signal, in_flight: work.size, grace_ms: config.shutdownGraceMs }, "shutting down");
      const left = await work.settle([scheduler.stop()], config.shutdownGraceMs);
      if (left.length > 0)
        logger.warn(
          { left, grace_ms: config.shutdownGraceMs },
          "the grace period ended with work still running; recovery finishes it",
        );
      server.close();
      // Kept-alive connections (a board left open) would hold the close; nothing is in flight now.
      (server as Server).closeAllConnections();
      await closeDb(db);
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
  } catch (err) {
    reportError(err, opts.json === true);
  }
}

/** Work of this process that outlives its request (accepted imports, recovery), for a draining stop. */
class InFlight {
  readonly #running = new Map<Promise<unknown>, string>();

  get size(): number {
    return this.#running.size;
  }

  track(p: Promise<unknown>, label: string): void {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.#running.set(settled, label);
    void settled.then(() => this.#running.delete(settled));
  }

  /** Waits for every tracked piece of work and `also`, at most `graceMs`; returns what is still running. */
  async settle(also: Promise<unknown>[], graceMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve();
      }, graceMs);
    });
    await Promise.race([Promise.allSettled(also), deadline]);
    // Work accepted a moment before the stop may be tracked after it began: asked again until none.
    while (!expired && this.#running.size > 0)
      await Promise.race([Promise.allSettled([...this.#running.keys()]), deadline]);
    clearTimeout(timer);
    return [...this.#running.values()];
  }
}
