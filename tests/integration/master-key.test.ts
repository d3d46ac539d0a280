import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../../src/app/context.js";
import { openSecretBox, rotateMasterKey } from "../../src/app/master-key.js";
import { loadConfig } from "../../src/config/index.js";
import { probeHost } from "../../src/hosts/hosts.js";
import { importKeys } from "../../src/provision/import.js";
import { buildPlan } from "../../src/provision/preview.js";
import { createLogger } from "../../src/util/logger.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

describe("master key rotation", () => {
  it("re-encrypts the secrets and keeps every key identity valid", async () => {
    w = await makeWorld();
    const keys = [deepseekKey(), deepseekKey()];
    await importKeys(w.t.ctx, {
      hostRef: "sim",
      providerId: "deepseek",
      keys,
      mode: "strict",
      accessMode: "subscription",
    });
    const hashBefore = w.t.ctx.secrets.keyHash(keys[0] as string);
    const newKey = randomBytes(32);
    const r = await rotateMasterKey(w.t.ctx.db, w.t.ctx.config.masterKey, newKey);
    expect(r).toEqual({ hosts: 1, secrets: 3 }); // admin token, probe password, HMAC secret

    await expect(openSecretBox(w.t.ctx.db, w.t.ctx.config.masterKey)).rejects.toThrow(
      /does not match this database/,
    );
    const config = loadConfig({ ...w.t.env, RELAY_MASTER_KEY: newKey.toString("base64") });
    const ctx = await createContext({ db: w.t.ctx.db, config, logger: createLogger("silent") });
    expect(ctx.secrets.keyHash(keys[0] as string)).toBe(hashBefore);
    expect((await probeHost(ctx, "sim")).status).toBe("supported");
    const { plan } = await buildPlan(ctx, { hostRef: "sim", providerId: "deepseek", keys, mode: "strict" });
    expect(plan.summary).toMatchObject({ create: 0 }); // the same keys are still recognised
  });
});
