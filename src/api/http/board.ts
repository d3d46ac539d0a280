import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { projectRoot } from "../../util/paths.js";

/**
 * The read-only status board (web/board, built into dist/web/board by `npm run build`). Its pages
 * are public files; everything they show comes from /api/* with the operator's bearer token.
 *
 * The policy allows this origin's script, style and fetches and nothing else: no inline script or
 * style, no other origin, no framing, no form posts, and Trusted Types so no string becomes markup.
 */
export const BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/board/board.js": { file: "board.js", type: "text/javascript; charset=utf-8" },
  "/board/board.css": { file: "board.css", type: "text/css; charset=utf-8" },
};

export function boardRoutes(dir = join(projectRoot(), "dist", "web", "board")) {
  const cache = new Map<string, string | null>();
  // Read on first request, not at start-up: `relay serve` is ready before anyone opens the board.
  const load = (file: string) => {
    if (!cache.has(file)) {
      try {
        cache.set(file, readFileSync(join(dir, file), "utf8"));
      } catch {
        cache.set(file, null);
      }
    }
    return cache.get(file) ?? null;
  };
  const app = new Hono();
  for (const [path, asset] of Object.entries(ASSETS)) {
    app.get(path, (c) => {
      const body = load(asset.file);
      if (body === null)
        return c.text("The board is not built in this installation: run `npm run build`.\n", 404);
      c.header("Content-Security-Policy", BOARD_CSP);
      return c.body(body, 200, { "content-type": asset.type });
    });
  }
  return app;
}
