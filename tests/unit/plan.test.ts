import { describe, expect, it } from "vitest";
import { logicalKey, ownershipTag } from "../../src/domain/naming.js";
import {
  decidePlan,
  type KeyRef,
  type Observed,
  type PlanOptions,
  planFingerprint,
  type RecordedRef,
} from "../../src/domain/plan.js";

const INSTALL = "0a1b2c3d";
const options = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  providerId: "deepseek",
  installId: INSTALL,
  generation: 1,
  mode: "partial",
  names: {
    group: `relay-deepseek-${INSTALL}-g1`,
    channel: `relay-deepseek-${INSTALL}-g1`,
    plan: `relay-deepseek-${INSTALL}-g1`,
  },
  accountName: (hash) => `deepseek-${hash.slice(0, 8)}-${INSTALL}`,
  notWanted: {},
  withPlan: false,
  subscriptionGroup: true,
  defaultDays: 30,
  subscribe: [],
  intake: { duplicates: 0, ignoredLines: 0, malformed: 0 },
  ...over,
});
const key = (n: number, malformed = false): KeyRef => ({
  position: n,
  line: n + 1,
  hash: `${String(n).repeat(8)}${"0".repeat(56)}`,
  mask: `sk-…000${n}`,
  malformed,
});
const none = (): Observed => ({ accounts: new Map(), subscriptions: [] });
const G = `relay-deepseek-${INSTALL}-g1`;
const acct = (n: number) => `deepseek-${String(n).repeat(8)}-${INSTALL}`;
const rec = (over: Partial<RecordedRef>): RecordedRef => ({
  state: "created",
  hostResourceId: 7,
  batchId: "b_old",
  name: G,
  ...over,
});
const recorded = (entries: [string, RecordedRef][]) => new Map(entries);
const ours = ownershipTag(INSTALL, "deepseek", "b_lost");

describe("decidePlan: shared resources", () => {
  const cases: {
    name: string;
    record?: RecordedRef;
    onHost?: Observed["group"];
    action: string;
    blocked: boolean;
  }[] = [
    { name: "nothing anywhere", action: "create", blocked: false },
    {
      name: "recorded and on the host with the same id",
      record: rec({}),
      onHost: { id: 7, name: G },
      action: "reuse",
      blocked: false,
    },
    {
      name: "recorded but gone from the host",
      record: rec({}),
      action: "conflict",
      blocked: true,
    },
    {
      name: "recorded but a different id on the host",
      record: rec({ hostResourceId: 8 }),
      onHost: { id: 9, name: G },
      action: "conflict",
      blocked: true,
    },
    {
      name: "rolled back record, host has one whose name carries this installation's marker (no tag kept)",
      record: rec({ state: "deleted" }),
      onHost: { id: 11, name: G },
      action: "reuse",
      blocked: false,
    },
    {
      name: "on the host without a marker or relay's tag",
      onHost: { id: 12, name: "relay-deepseek-g1", tag: "made by hand" },
      action: "conflict",
      blocked: true,
    },
    {
      name: "on the host with another provider's tag",
      onHost: { id: 13, name: "relay-deepseek-g1", tag: ownershipTag(INSTALL, "kimi", "b_x") },
      action: "conflict",
      blocked: true,
    },
    {
      name: "made by a second installation on the same host",
      onHost: {
        id: 14,
        name: "relay-deepseek-99999999-g1",
        tag: ownershipTag("99999999", "deepseek", "b_other"),
      },
      action: "conflict",
      blocked: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = c.record ? recorded([[`group|${logicalKey(1, "group")}`, c.record]]) : new Map();
      const d = decidePlan(r, { ...none(), group: c.onHost }, [key(1)], options());
      const group = d.resources.find((x) => x.type === "group");
      expect(group?.action).toBe(c.action);
      expect(d.blockedReasons.some((b) => b.startsWith("group"))).toBe(c.blocked);
    });
  }

  it("skips what the host or the pack cannot have, and plans a plan only when asked", () => {
    const d = decidePlan(
      new Map(),
      none(),
      [key(1)],
      options({ notWanted: { channel: "host has no channels" } }),
    );
    expect(d.resources.map((r) => [r.type, r.action])).toEqual([
      ["group", "create"],
      ["channel", "skip"],
    ]);
    const withPlan = decidePlan(new Map(), none(), [key(1)], options({ withPlan: true }));
    expect(withPlan.resources.map((r) => r.type)).toEqual(["group", "channel", "plan"]);
  });
});

describe("decidePlan: keys", () => {
  it("creates new keys, skips malformed ones, reuses imported ones and re-creates lost ones", () => {
    const k = [key(1), key(2, true), key(3), key(4)];
    const r = recorded([
      [`account|${logicalKey(1, "account", k[2]?.hash)}`, rec({ name: acct(3), hostResourceId: 30 })],
      [`account|${logicalKey(1, "account", k[3]?.hash)}`, rec({ name: acct(4), hostResourceId: 40 })],
    ]);
    const observed: Observed = {
      ...none(),
      accounts: new Map([[acct(3), { id: 30, name: acct(3), tag: ours }]]),
    };
    const d = decidePlan(r, observed, k, options());
    expect(d.keys.map((x) => x.action)).toEqual(["create", "skip", "reuse", "create"]);
    expect(d.keys[3]?.reason).toMatch(/missing on the host; it will be re-created/);
    // The summary counts the shared resources too: group and channel are creates as well.
    expect(d.summary).toMatchObject({ keys: 4, create: 4, reuse: 1, skip: 1 });
    expect(d.blockedReasons).toEqual([]);
  });

  it("adopts an account whose name carries this installation's marker (notes dropped) and refuses one made by hand under a recorded pre-marker name", () => {
    const observed: Observed = {
      ...none(),
      accounts: new Map([
        [acct(1), { id: 5, name: acct(1) }],
        ["deepseek-22222222", { id: 6, name: "deepseek-22222222", tag: "someone's" }],
      ]),
    };
    const legacy = recorded([
      [
        `account|${logicalKey(1, "account", key(2).hash)}`,
        rec({ name: "deepseek-22222222", state: "deleted" }),
      ],
    ]);
    const d = decidePlan(legacy, observed, [key(1), key(2)], options());
    expect(d.keys.map((x) => [x.action, x.host_resource_id])).toEqual([
      ["reuse", 5],
      ["conflict", 6],
    ]);
  });

  it("blocks strict mode on a conflicting key, and any mode when no key can be imported", () => {
    const observed: Observed = {
      ...none(),
      accounts: new Map([["deepseek-22222222", { id: 6, name: "deepseek-22222222" }]]),
    };
    const legacy = recorded([
      [
        `account|${logicalKey(1, "account", key(2).hash)}`,
        rec({ name: "deepseek-22222222", state: "deleted" }),
      ],
    ]);
    expect(
      decidePlan(legacy, observed, [key(1), key(2)], options({ mode: "strict" })).blockedReasons,
    ).toEqual(["strict mode: some keys conflict with accounts on the host"]);
    expect(decidePlan(legacy, observed, [key(1), key(2)], options()).blockedReasons).toEqual([]);
    expect(decidePlan(new Map(), none(), [key(1, true)], options()).blockedReasons).toEqual([
      "no key can be imported",
    ]);
  });
});

describe("decidePlan: subscriptions", () => {
  it("assigns, reuses an active one, and skips on a non-subscription group", () => {
    const observed: Observed = { ...none(), subscriptions: [{ userId: 2, status: "active" }] };
    const subscribe = [{ userId: 1 }, { userId: 2, days: 7 }];
    const d = decidePlan(new Map(), observed, [key(1)], options({ subscribe }));
    expect(d.subscriptions.map((s) => [s.user_id, s.validity_days, s.action])).toEqual([
      [1, 30, "create"],
      [2, 7, "reuse"],
    ]);
    const standard = decidePlan(
      new Map(),
      observed,
      [key(1)],
      options({ subscribe, subscriptionGroup: false }),
    );
    expect(standard.subscriptions.every((s) => s.action === "skip")).toBe(true);
  });
});

describe("planFingerprint", () => {
  it("changes with what the host shows and with the keys, not with order of listing", () => {
    const a: Observed = {
      ...none(),
      accounts: new Map([
        ["x", { id: 1, name: "x" }],
        ["y", { id: 2, name: "y" }],
      ]),
    };
    const b: Observed = {
      ...none(),
      accounts: new Map([
        ["y", { id: 2, name: "y" }],
        ["x", { id: 1, name: "x" }],
      ]),
    };
    expect(planFingerprint("0.1.126", a, [key(1)])).toBe(planFingerprint("0.1.126", b, [key(1)]));
    expect(planFingerprint("0.1.126", a, [key(1)])).not.toBe(planFingerprint("0.1.127", a, [key(1)]));
    expect(planFingerprint("0.1.126", a, [key(1)])).not.toBe(planFingerprint("0.1.126", a, [key(2)]));
    const grouped = { ...a, group: { id: 3, name: "g", detail: "active" } };
    const disabled = { ...a, group: { id: 3, name: "g", detail: "inactive" } };
    expect(planFingerprint("0.1.126", grouped, [key(1)])).not.toBe(
      planFingerprint("0.1.126", disabled, [key(1)]),
    );
  });

  it("binds the decided plan too: mode, access mode, targets, names and pack version each change it", () => {
    const decided = {
      pack_version: "1.1.0",
      mode: "strict",
      access_mode: null,
      subscriptions: [{ user_id: 1, validity_days: 30 }],
      resources: [{ type: "group", name: "relay-deepseek-0a1b2c3d-g1", action: "create" }],
    };
    const base = planFingerprint("0.1.179", none(), [key(1)], decided);
    for (const change of [
      { mode: "partial" },
      { access_mode: "subscription" },
      { subscriptions: [{ user_id: 1, validity_days: 60 }] },
      { subscriptions: [] },
      { resources: [{ type: "group", name: "relay-deepseek-0a1b2c3d-g2", action: "create" }] },
      { pack_version: "1.2.0" },
    ]) {
      expect(
        planFingerprint("0.1.179", none(), [key(1)], { ...decided, ...change }),
        JSON.stringify(change),
      ).not.toBe(base);
    }
    expect(planFingerprint("0.1.179", none(), [key(1)], { ...decided })).toBe(base);
  });
});
