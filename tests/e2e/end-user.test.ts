import { writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { runRelay } from "../helpers/cli.js";
import { deepseekKey, makeWorld, type World } from "../helpers/world.js";

let w: World;
afterEach(async () => {
  await w?.close();
});

async function userApi(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code: number; data: Record<string, unknown> };
  if (res.status !== 200 || json.code !== 0)
    throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

describe("an ordinary user calls DeepSeek through sub2api after `relay provider import`", () => {
  it("with the official openai client and the user's own key bound to the group", async () => {
    w = await makeWorld();
    const user = w.sim.sim.state.addUser({ email: "mei@example.com", password: "mei-password-1" });
    const keys = join(w.t.dir, "deepseek.keys");
    writeFileSync(keys, `${deepseekKey()}\n${deepseekKey()}\n`);

    const imp = await runRelay(
      [
        "--json",
        "provider",
        "import",
        "deepseek",
        "--host",
        "sim",
        "--keys-file",
        keys,
        "--mode",
        "strict",
        "--access-mode",
        "subscription",
        "--subscribe",
        `${user.id}:30`,
        "--yes",
      ],
      { env: w.t.env },
    );
    expect(imp.code).toBe(0);
    const result = JSON.parse(imp.stdout);
    expect(result).toMatchObject({
      status: "succeeded",
      access_closure_status: "subscription_ready",
      provider_status: "active",
    });

    // The user, on their own: log in, bind a key to the DeepSeek group, call the standard API.
    const session = await userApi(w.sim.url, "/api/v1/auth/login", {
      email: "mei@example.com",
      password: "mei-password-1",
    });
    const key = await userApi(
      w.sim.url,
      "/api/v1/keys",
      { name: "my deepseek key", group_id: result.created.group_id },
      session.access_token as string,
    );
    const client = new OpenAI({ baseURL: `${w.sim.url}/v1`, apiKey: key.key as string, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "deepseek-flash",
      messages: [{ role: "user", content: "Say hello." }],
      max_tokens: 64,
    });
    expect(completion.choices[0]?.message.content).toMatch(/deepseek-flash/);

    const status = await runRelay(["--json", "access", "status", "deepseek", "--host", "sim", "--probe"], {
      env: w.t.env,
    });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      access_state: "subscription_ready",
      gateway: { status: 200 },
    });
  });

  it("relay access preview|assign|status as a process; status exits 2 once access breaks", async () => {
    w = await makeWorld();
    const user = w.sim.sim.state.addUser({ email: "li@example.com", password: "li-password-1" });
    const keys = join(w.t.dir, "k.keys");
    writeFileSync(keys, `${deepseekKey()}\n`);
    expect(
      (
        await runRelay(
          [
            "provider",
            "import",
            "deepseek",
            "--host",
            "sim",
            "--keys-file",
            keys,
            "--mode",
            "strict",
            "--yes",
          ],
          { env: w.t.env },
        )
      ).code,
    ).toBe(0);

    const preview = await runRelay(
      ["access", "preview", "deepseek", "--host", "sim", "--user", `${user.id}:7`],
      { env: w.t.env },
    );
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(new RegExp(`${user.id}\\s+7\\s+create`));
    // The same confirmation rules as an import: a dry run, and no write without --yes off a terminal.
    const subsOnHost = () => [...w.sim.sim.state.subscriptions.values()].filter((x) => x.userId === user.id);
    const args = ["access", "assign", "deepseek", "--host", "sim", "--subscribe", `${user.id}:7`];
    const dry = await runRelay([...args, "--dry-run"], { env: w.t.env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`${user.id}\\s+7\\s+create`));
    const unconfirmed = await runRelay(args, { env: w.t.env });
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/add --yes/);
    expect(subsOnHost()).toHaveLength(0);
    // A user the host does not have: named, with what to do, and nothing written.
    const missing = await runRelay(
      ["--json", "access", "assign", "deepseek", "--host", "sim", "--subscribe", "987654", "--yes"],
      { env: w.t.env },
    );
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: "USER_NOT_FOUND" });
    expect(missing.stderr).toMatch(
      /no user with id 987654 on host sim; nothing was assigned\nhint: Create the user in sub2api first/,
    );
    const assign = await runRelay(["--json", ...args, "--yes"], { env: w.t.env });
    expect(JSON.parse(assign.stdout).items[0]).toMatchObject({ user_id: user.id, action: "created" });
    const ok = await runRelay(["access", "status", "deepseek", "--host", "sim", "--probe"], { env: w.t.env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/access:\s+SUBSCRIPTION_READY/);

    for (const s of w.sim.sim.state.subscriptions.values()) s.status = "revoked";
    const broken = await runRelay(["--json", "access", "status", "deepseek", "--host", "sim", "--probe"], {
      env: w.t.env,
    });
    expect(broken.code).toBe(2);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      access_state: "broken",
      gateway: { error_code: "SUBSCRIPTION_NOT_FOUND" },
    });
    const cached = await runRelay(["--json", "access", "status", "deepseek", "--host", "sim", "--cached"], {
      env: w.t.env,
    });
    expect(JSON.parse(cached.stdout).access_state).toBe("broken");
  });
});
