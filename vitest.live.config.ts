import { defineConfig } from "vitest/config";

/** `npm run test:live`: the live acceptance suite against a real sub2api (tests/live/). */
export default defineConfig({
  test: {
    include: ["tests/live/**/*.live.test.ts"],
    globalSetup: ["tests/live/announce.ts"],
    // One flow, in order: the steps build on each other.
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});
