// `npm run build` bundles the compiled CLI into dist/bin/: one module graph, split per command
// (each command still loads only what it runs), so start-up reads a few files instead of hundreds.
// better-sqlite3 stays external (a native addon).
export default {
  input: { relay: "dist/cmd/relay.js" },
  platform: "node",
  external: ["better-sqlite3"],
  logLevel: "warn",
  output: {
    dir: "dist/bin",
    format: "esm",
    entryFileNames: "[name].mjs",
    chunkFileNames: "[name]-[hash].mjs",
    sourcemap: true,
  },
};
