import { existsSync } from "node:fs";
import { serve } from "@hono/node-server";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { makeTestEnv, type TestEnv } from "../helpers/context.js";

const CHROMIUM = process.env.RELAY_TEST_CHROMIUM ?? "/usr/bin/chromium";
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser)
  console.warn(`\n!! /docs BROWSER TEST SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)\n`);

let t: TestEnv;
let server: ReturnType<typeof serve>;
let base = "";

describe.skipIf(!haveBrowser)("/docs in a browser: Swagger UI from this origin only", () => {
  beforeAll(async () => {
    t = await makeTestEnv();
    await new Promise<void>((resolve) => {
      server = serve({ fetch: createApp(t.ctx).fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await t?.cleanup();
  });

  it("renders the reference with its schemas, under the page's CSP, with no request to another origin", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      const elsewhere: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      page.on("request", (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith("data:")) elsewhere.push(r.url());
      });
      await page.goto(`${base}/docs`);
      await page.locator(".swagger-ui .info .title").waitFor({ timeout: 60_000 });
      expect(await page.locator(".swagger-ui .info .title").textContent()).toMatch(/relay/i);
      // Operations and the schemas section come from /openapi.json.
      await page
        .locator(".opblock-summary-path", { hasText: "/api/providers/{provider_id}/import" })
        .first()
        .waitFor();
      expect(await page.locator("section.models").count()).toBe(1);
      expect(violations).toEqual([]);
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
