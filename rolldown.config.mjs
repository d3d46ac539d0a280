// `npm run build` bundles two things:
// - the compiled CLI into dist/bin/: one module graph, split per command (each command still loads
//   only what it runs), so start-up reads a few files instead of hundreds. better-sqlite3 stays
//   external (a native addon), and so does pg (and its optional pg-native). The key-pattern
//   analysis worker, dist/bin/pattern-worker.mjs, is an entry too; it loads recheck with require
//   at run time.
// - the web board (web/board/main.ts, TypeScript read directly) into dist/web/board/board.js: one
//   file for the browser, no CDN, served by `relay serve` beside index.html and board.css.
export default [
  {
    input: {
      relay: "dist/cmd/relay.js",
      "pattern-worker": "dist/src/domain/pack/pattern-worker.js",
    },
    platform: "node",
    external: ["better-sqlite3", "pg", "pg-native"],
    logLevel: "warn",
    output: {
      dir: "dist/bin",
      format: "esm",
      entryFileNames: "[name].mjs",
      chunkFileNames: "[name]-[hash].mjs",
      sourcemap: true,
    },
  },
  {
    input: { board: "web/board/main.ts" },
    platform: "browser",
    logLevel: "warn",
    output: { dir: "dist/web/board", format: "esm", entryFileNames: "[name].js", minify: true },
  },
];
