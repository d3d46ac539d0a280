import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../src/util/paths.js";

/** The simulator in its own process, so that its CPU is not counted as the control plane's. */
export async function startSimProcess(
  args: string[] = [],
): Promise<{ url: string; key: string; child: ChildProcess }> {
  const main = join(projectRoot(), "dist", "tests", "sim", "sub2api", "main.js");
  const child = spawn(process.execPath, [main, "--profile", "cn-native", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.on("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const info = JSON.parse(line) as { url: string; admin_key: string };
  return { url: info.url, key: info.admin_key, child };
}
