import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { BOARD_CSP, boardRoutes } from "../../src/api/http/board.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";

let t: TestEnv;
beforeEach(async () => {
  t = await makeTestEnv();
});
afterEach(() => t.cleanup());

describe("the board's static files (built by npm run build)", () => {
  it("serves the page, script and style with the strict policy; nothing else under /board", async () => {
    const app = createApp(t.ctx);
    const page = await app.request("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toBe(BOARD_CSP);
    expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    const html = await page.text();
    expect(html).toContain('src="/board/board.js"');
    expect(html).not.toMatch(/<script>|style=/); // nothing inline: the policy would refuse it
    const js = await app.request("/board/board.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("relay.board.token");
    expect((await app.request("/board/board.css")).headers.get("content-type")).toMatch(/^text\/css/);
    const other = await app.request("/board/../../package.json");
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("ROUTE_NOT_FOUND");
  });

  it("an installation without the built board answers 404 saying how to build it", async () => {
    const routes = boardRoutes(mkdtempSync(join(tmpdir(), "no-board-")));
    const res = await routes.request("/");
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/npm run build/);
  });
});
