export { type AdapterOptions, Sub2apiAdapter } from "./adapter.js";
export type { CallObservation } from "./client.js";
export { HostError, isHostError } from "./errors.js";
export * from "./types.js";
