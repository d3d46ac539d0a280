import { parseArgs } from "node:util";
import { isProfileName, PROFILE_NAMES } from "./profiles.js";
import { startSimulator } from "./server.js";

/** `npm run sim -- --profile cn-native --port 0`: a simulated sub2api host on loopback. */
const { values } = parseArgs({
  options: {
    profile: { type: "string", default: "cn-native" },
    port: { type: "string", default: "0" },
    "compliance-locked": { type: "boolean", default: false },
    "step-up": { type: "boolean", default: false },
    latency: { type: "string", default: "0" },
    "error-rate": { type: "string", default: "0" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run sim -- [--profile NAME] [--port N] [--compliance-locked]
                      [--step-up] [--latency MS] [--error-rate 0..1]
Profiles: ${PROFILE_NAMES.join(", ")}
The admin key is generated and printed unless SIM_ADMIN_KEY is set (never pass it as an argument).`);
  process.exit(0);
}
const profile = values.profile ?? "cn-native";
if (!isProfileName(profile)) {
  console.error(`unknown profile "${profile}"; use one of ${PROFILE_NAMES.join(", ")}`);
  process.exit(2);
}
const running = await startSimulator({
  profile,
  port: Number(values.port),
  adminApiKey: process.env.SIM_ADMIN_KEY,
  complianceLocked: values["compliance-locked"],
  stepUpVariant: values["step-up"],
  faults: { latencyMs: Number(values.latency), errorRate: Number(values["error-rate"]) },
});
console.log(
  JSON.stringify({
    url: running.url,
    port: running.port,
    profile: running.sim.profile.name,
    version: running.sim.profile.version,
    admin_key: running.sim.state.adminApiKey,
  }),
);
const stop = () => void running.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
