import { describe, expect, it } from "vitest";
import { alertText } from "../../src/alerts/messages.js";
import { healthAlert, syncAlert } from "../../src/policy/transitions.js";

const AT = "2026-12-02T07:00:00.000Z";
const run = (previous_health: string, health: string, actions: string[] = []) =>
  ({
    previous_health,
    health,
    health_reason: "why",
    mode: "enforce",
    actions: actions.map((action) => ({ action })),
  }) as Parameters<typeof healthAlert>[2];
const sync = (previous_status: string | null, new_status: string | null) => ({
  host_name: "prod",
  provider_id: "deepseek",
  previous_status,
  new_status,
  reason: "an account was deleted",
});

describe("alert transitions", () => {
  it("health: one per change, resolved back to healthy; the first verdict and losing sight are not news", () => {
    expect(healthAlert("prod", "deepseek", run("healthy", "healthy"), AT)).toBeNull();
    expect(healthAlert("prod", "deepseek", run("unknown", "healthy"), AT)).toBeNull();
    expect(healthAlert("prod", "deepseek", run("degraded", "unknown"), AT)).toBeNull();
    const down = healthAlert("prod", "deepseek", run("degraded", "down", ["pause", "floor_held"]), AT);
    expect(down).toMatchObject({ topic: "health", from: "degraded", to: "down", resolved: false });
    expect(down?.summary).toBe("why; this run: 1 paused, 1 kept by the floor.");
    expect(healthAlert("prod", "deepseek", run("down", "healthy", ["resume"]), AT)?.resolved).toBe(true);
    expect(alertText(down as NonNullable<typeof down>)).toMatch(/^\[relay\] HEALTH DOWN: deepseek on prod/);
  });

  it("sync: drifted or failed is a problem, leaving it is resolved, degraded is the health alert's", () => {
    expect(syncAlert(sync("active", "drifted"), AT)).toMatchObject({ to: "drifted", resolved: false });
    expect(syncAlert(sync("drifted", "active"), AT)).toMatchObject({ resolved: true });
    expect(syncAlert(sync("failed", "degraded"), AT)).toMatchObject({ resolved: true });
    expect(syncAlert(sync("active", "degraded"), AT)).toBeNull();
    expect(syncAlert(sync("drifted", "drifted"), AT)).toBeNull();
    expect(syncAlert(sync(null, "active"), AT)).toBeNull();
  });

  it("a key quoted in a reason is masked in the text", () => {
    const a = healthAlert(
      "prod",
      "deepseek",
      { ...run("healthy", "degraded"), health_reason: `sk-${"a1".repeat(16)} refused` },
      AT,
    );
    expect(alertText(a as NonNullable<typeof a>)).toMatch(/\[redacted\] refused/);
  });
});
