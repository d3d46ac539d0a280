import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The live suite runs only against a real host (`npm run test:live`, vitest.live.config.ts).
    exclude: ["tests/live/**", "**/node_modules/**"],
    // RELAY_TEST_STORE=postgres: start (or use) the PostgreSQL server the suite then runs on.
    globalSetup: ["tests/setup/postgres.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
