import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/http/app.js";
import { PACK_LIMITS } from "../../src/packs/archive.js";
import { projectRoot } from "../../src/util/paths.js";
import { hostileArchives, validEntries } from "../fixtures/packs/hostile.js";
import { writeZip } from "../fixtures/packs/zip-writer.js";
import { makeTestEnv, rowCount, TEST_API_TOKEN, type TestEnv } from "../helpers/context.js";
import { json } from "../helpers/json.js";

const SHIPPED = join(projectRoot(), "packs", "openai-cn-pack");
let t: TestEnv;
beforeEach(async () => {
  t = await makeTestEnv();
});
afterEach(() => t.cleanup());

function request(method: string, path: string, init: { body?: RequestInit["body"]; type?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_TOKEN}` };
  if (init.type) headers["content-type"] = init.type;
  return createApp(t.ctx).request(path, { method, headers, body: init.body });
}

describe("POST /api/packs/install", () => {
  it("installs a server-side directory by path, then answers 200 unchanged", async () => {
    const first = await request("POST", "/api/packs/install", {
      body: JSON.stringify({ path: SHIPPED }),
      type: "application/json",
    });
    expect(first.status).toBe(201);
    expect(await json(first)).toMatchObject({
      outcome: "installed",
      pack: { pack_id: "openai-cn-pack", version: "1.2.0" },
    });
    const again = await request("POST", "/api/packs/install", {
      body: JSON.stringify({ path: SHIPPED }),
      type: "application/json",
    });
    expect(again.status).toBe(200);
    expect((await json(again)).outcome).toBe("unchanged");
  });

  it("installs a zip sent as the raw body and as multipart", async () => {
    const zip = writeZip(validEntries());
    const raw = await request("POST", "/api/packs/install", { body: zip, type: "application/zip" });
    expect(raw.status).toBe(201);
    expect((await json(raw)).pack.pack_id).toBe("fixture-pack");

    await t.cleanup();
    t = await makeTestEnv();
    const form = new FormData();
    form.set("file", new File([zip], "fixture-pack.zip", { type: "application/zip" }));
    const multi = await request("POST", "/api/packs/install", { body: form });
    expect(multi.status).toBe(201);
    expect((await json(multi)).pack.source).toBe("upload:fixture-pack.zip");
  });

  it("refuses a bad pack with 422 and the full report, writing nothing", async () => {
    const dir = join(projectRoot(), "tests", "fixtures", "packs", "non-https-base-url");
    const res = await request("POST", "/api/packs/install", {
      body: JSON.stringify({ path: dir }),
      type: "application/json",
    });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error.code).toBe("PACK_INVALID");
    expect(body.error.details.issues[0]).toMatchObject({
      code: "BASE_URL_NOT_HTTPS",
      file: "providers/fixture-llm.json",
      pointer: "/base_url",
    });
    expect(await rowCount(t.ctx, "packs")).toBe(0);
  });

  it("refuses hostile archives with their specific code", async () => {
    for (const h of hostileArchives()) {
      const res = await request("POST", "/api/packs/install", {
        body: h.zip,
        type: "application/octet-stream",
      });
      expect(res.status, h.name).toBe(422);
      const body = await json(res);
      const codes = [
        body.error.code,
        ...(body.error.details?.issues ?? []).map((i: { code: string }) => i.code),
      ];
      expect(codes, h.name).toContain(h.code);
    }
    expect(await rowCount(t.ctx, "packs")).toBe(0);
  });

  it("refuses bodies over the archive limit, wrong content types, unknown fields and empty bodies", async () => {
    const big = await request("POST", "/api/packs/install", {
      body: Buffer.alloc(PACK_LIMITS.maxArchiveBytes + 1),
      type: "application/zip",
    });
    expect(big.status).toBe(400);
    expect((await json(big)).error.code).toBe("BODY_TOO_LARGE");
    const text = await request("POST", "/api/packs/install", { body: "hello", type: "text/plain" });
    expect((await json(text)).error.code).toBe("UNSUPPORTED_CONTENT_TYPE");
    const extra = await request("POST", "/api/packs/install", {
      body: JSON.stringify({ path: SHIPPED, mode: "yolo" }),
      type: "application/json",
    });
    expect(extra.status).toBe(400);
    expect((await json(extra)).error.details[0].message).toMatch(/unknown field "mode"/);
    const form = new FormData();
    form.set("file", new File([writeZip(validEntries())], "p.zip", { type: "application/zip" }));
    form.set("force", "true");
    const extraField = await request("POST", "/api/packs/install", { body: form });
    expect(extraField.status).toBe(400);
    expect((await json(extraField)).error.details).toEqual([
      { pointer: "/", message: 'unknown field "force"' },
    ]);
    // A multipart body without a boundary, or whose parts do not use it, was a 500.
    for (const type of ["multipart/form-data", "multipart/form-data; boundary=abc"]) {
      const broken = await request("POST", "/api/packs/install", { body: "--xyz\r\nnot a part", type });
      expect(broken.status, type).toBe(400);
      expect((await json(broken)).error).toMatchObject({
        code: "INVALID_MULTIPART",
        hint: expect.stringMatching(/boundary=/),
      });
    }
    const empty = await request("POST", "/api/packs/install", {
      body: new Uint8Array(0),
      type: "application/zip",
    });
    expect((await json(empty)).error.code).toBe("EMPTY_BODY");
    expect(await rowCount(t.ctx, "packs")).toBe(0);
  });
});

describe("reading packs", () => {
  it("lists packs, shows one, lists its providers; unknown packs are 404", async () => {
    await request("POST", "/api/packs/install", {
      body: JSON.stringify({ path: SHIPPED }),
      type: "application/json",
    });
    const list = await json(request("GET", "/api/packs"));
    expect(list.items.map((p: { pack_id: string }) => p.pack_id)).toEqual(["openai-cn-pack"]);
    const one = await json(request("GET", "/api/packs/openai-cn-pack"));
    expect(one.providers).toEqual([
      "deepseek",
      "kimi",
      "kimi-intl",
      "minimax",
      "minimax-intl",
      "qwen",
      "qwen-intl",
      "qwen-us",
      "zhipu",
      "zhipu-intl",
    ]);
    expect(one.host).toEqual({ app: "sub2api", version_range: ">=0.1.0 <1" });
    const providers = await json(request("GET", "/api/packs/openai-cn-pack/providers"));
    const deepseek = providers.items.find((p: { provider_id: string }) => p.provider_id === "deepseek");
    expect(deepseek).toMatchObject({
      base_url: "https://api.deepseek.com",
      smoke_test_model: "deepseek-flash",
    });
    expect((await request("GET", "/api/packs/nope")).status).toBe(404);
    expect(JSON.parse(readFileSync(join(SHIPPED, "pack.json"), "utf8")).version).toBe(one.version);
  });
});
