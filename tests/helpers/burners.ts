import { type ChildProcess, spawn } from "node:child_process";

/**
 * Child processes that each keep a core busy until stopped: a saturated machine, for checks whose
 * outcome must not depend on how busy it is.
 */
export function startBurners(count: number): { stop: () => Promise<void> } {
  const burners: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }),
  );
  return {
    stop: async () => {
      await Promise.all(
        burners.map(
          (b) =>
            new Promise<void>((resolve) => {
              if (b.exitCode !== null || b.signalCode !== null) return resolve();
              b.once("exit", () => resolve());
              b.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}
