import type { Command } from "commander";
import { createContext } from "../app/context.js";
import { describeStore, storeTarget } from "../config/index.js";
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
    const db = openDb(storeTarget(config));
    const ctx = createContext({ db, config, logger, processMetrics: true });
    const scheduler = startScheduler(ctx, config.reconcileCron, config.reconcileJitterMs);
    const app = createApp(ctx, { isLeader: () => scheduler.isLeader() });
    // Batches a crash left unfinished are finished first (strict: rolled back; partial: tested accounts kept).
    void recoverBatches(ctx)
      .then((outcomes) => {
        for (const o of outcomes) logger.warn({ ...o }, "recovered an interrupted batch");
      })
      .catch((err) => logger.error({ err }, "batch recovery failed; run `relay batch recover`"));
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
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      scheduler.stop();
      server.close(() => {
        closeDb(db);
        process.exit(0);
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  } catch (err) {
    reportError(err, opts.json === true);
  }
}
