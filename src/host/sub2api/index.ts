export { Sub2apiAdapter, type AdapterOptions } from "./adapter.js";
export { HostError, isHostError } from "./errors.js";
export type { CallObservation } from "./client.js";
export * from "./types.js";
