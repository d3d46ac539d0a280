import { describe, expect, it } from "vitest";
import {
  diffResources,
  type Finding,
  healAction,
  type Observed,
  type RecordedResource,
} from "../../src/domain/drift.js";
import { describeFindings } from "../../src/domain/next-steps.js";
import type { HostAccount, HostGroup } from "../../src/host/sub2api/types.js";

const INSTALL = "0a1b2c3d";
const OWNER = { installId: INSTALL, providerId: "deepseek" };
const TAG = `managed-by=sub2api-cn-relay-manager install=${INSTALL} provider=deepseek batch=b_1`;
const group = (over: Partial<HostGroup> = {}): HostGroup => ({
  id: 1,
  name: "relay-deepseek-g1",
  description: TAG,
  platform: "deepseek",
  status: "active",
  subscriptionType: "subscription",
  isExclusive: false,
  rateMultiplier: 1,
  dailyLimitUsd: null,
  weeklyLimitUsd: null,
  monthlyLimitUsd: null,
  ...over,
});
const mapping = { "deepseek-flash": "deepseek-flash" };
const account = (over: Partial<HostAccount> = {}): HostAccount => ({
  id: 10,
  name: "deepseek-aaaaaaaa",
  notes: TAG,
  platform: "deepseek",
  type: "apikey",
  status: "active",
  schedulable: true,
  priority: 50,
  concurrency: 5,
  groupIds: [1],
  baseUrl: "https://api.deepseek.com",
  modelMapping: mapping,
  hasApiKey: true,
  credentialFields: {},
  extra: {},
  errorMessage: "",
  pause: {},
  ...over,
});
const recorded: RecordedResource[] = [
  {
    name: "relay-deepseek-g1",
    hostResourceId: 1,
    expect: { type: "group", platform: "deepseek", subscription_type: "subscription", status: "active" },
  },
  {
    name: "deepseek-aaaaaaaa",
    hostResourceId: 10,
    expect: {
      type: "account",
      platform: "deepseek",
      group_id: 1,
      base_url: "https://api.deepseek.com",
      model_mapping: mapping,
      status: "active",
      schedulable: true,
    },
  },
  { name: "user-7", hostResourceId: 99, expect: { type: "subscription", user_id: 7, group_id: 1 } },
];
const observed = (over: Partial<Observed> = {}): Observed => ({
  groups: [group()],
  accounts: [account()],
  channels: [],
  plans: undefined,
  subscriptions: [
    {
      id: 99,
      userId: 7,
      groupId: 1,
      status: "active",
      startsAt: undefined,
      expiresAt: undefined,
      notes: TAG,
    },
  ],
  ...over,
});

describe("diffResources", () => {
  it("finds nothing when the host matches the records", () => {
    expect(diffResources(OWNER, recorded, observed())).toEqual([]);
  });

  it("an account the host paused (temp-unschedulable, rate-limited, overloaded) is failing though status and schedulable look fine", () => {
    const now = Date.parse("2026-12-02T00:00:00Z");
    const cases: [HostAccount["pause"], RegExp][] = [
      [
        { tempUnschedulableUntil: "2026-12-02T00:30:00Z", tempUnschedulableReason: "balance low" },
        /temporarily unschedulable until .*balance low/,
      ],
      [{ rateLimitedAt: "2026-12-01T23:59:00Z", rateLimitResetAt: "2026-12-02T00:01:00Z" }, /rate-limited/],
      [{ overloadUntil: "2026-12-02T00:00:10Z" }, /overloaded/],
    ];
    for (const [pause, text] of cases) {
      const f = diffResources(OWNER, recorded, observed({ accounts: [account({ pause })] }), now);
      expect(f).toEqual([
        expect.objectContaining({
          kind: "account_failing",
          resource_type: "account",
          message: expect.stringMatching(text),
        }),
      ]);
    }
    // A pause already over is no finding.
    const over = account({ pause: { tempUnschedulableUntil: "2026-12-01T00:00:00Z" } });
    expect(diffResources(OWNER, recorded, observed({ accounts: [over] }), now)).toEqual([]);
  });

  it("reports a resource deleted by hand as missing, naming it", () => {
    const f = diffResources(OWNER, recorded, observed({ accounts: [] }));
    expect(f).toEqual([
      expect.objectContaining({
        kind: "missing",
        resource_type: "account",
        name: "deepseek-aaaaaaaa",
        host_resource_id: 10,
      }),
    ]);
  });

  it("reports each field relay set that differs", () => {
    const f = diffResources(
      OWNER,
      recorded,
      observed({
        groups: [group({ status: "inactive", subscriptionType: "standard" })],
        accounts: [
          account({
            groupIds: [],
            schedulable: false,
            baseUrl: "https://evil.example",
            modelMapping: { "*": "x" },
          }),
        ],
      }),
    );
    expect(f.map((x) => `${x.resource_type}.${x.field}`).sort()).toEqual(
      [
        "account.base_url",
        "account.group_ids",
        "account.model_mapping",
        "account.schedulable",
        "group.status",
        "group.subscription_type",
      ].sort(),
    );
    expect(f.every((x) => x.kind === "changed")).toBe(true);
  });

  it("reports resources this installation made that are not in the records as unexpected, and ignores other providers', other installations' and foreign ones", () => {
    // The marker is in the name: found even where the build dropped the notes.
    const stray = account({ id: 11, name: `deepseek-bbbbbbbb-${INSTALL}`, notes: "" });
    const secondInstall = account({ id: 14, name: "deepseek-dddddddd-99999999", notes: "" });
    const other = account({
      id: 12,
      name: "kimi-cccccccc",
      notes: TAG.replace("provider=deepseek", "provider=kimi"),
    });
    const foreign = account({ id: 13, name: "hand-made", notes: "made by an operator" });
    const f = diffResources(
      OWNER,
      recorded,
      observed({ accounts: [account(), stray, other, foreign, secondInstall] }),
    );
    expect(f).toEqual([expect.objectContaining({ kind: "unexpected", host_resource_id: 11 })]);
  });

  it("treats a revoked (unlisted) subscription as missing and never compares secrets", () => {
    const f = diffResources(
      OWNER,
      recorded,
      observed({ subscriptions: [], accounts: [account({ hasApiKey: false })] }),
    );
    expect(f).toEqual([expect.objectContaining({ kind: "missing", resource_type: "subscription" })]);
  });
});

describe("healAction: what `reconcile --heal` would do, as the board and the API show it", () => {
  const f = (over: Partial<Finding>): Finding => ({
    kind: "missing",
    resource_type: "account",
    name: "n",
    host_resource_id: 1,
    message: "m",
    ...over,
  });
  it("names the three keyless repairs and nothing else", () => {
    expect(healAction(f({ kind: "changed", field: "group_ids" }))).toBe("rebind_account");
    expect(healAction(f({ kind: "changed", field: "model_mapping" }))).toBeNull();
    expect(healAction(f({ resource_type: "subscription" }))).toBe("reassign_subscription");
    expect(healAction(f({ resource_type: "channel" }))).toBe("recreate_channel");
    // A missing account needs its key again: relay keeps none.
    expect(healAction(f({}))).toBeNull();
    for (const kind of ["unexpected", "account_failing", "access_broken", "incompatible"] as const)
      expect(healAction(f({ kind, resource_type: "subscription" }))).toBeNull();
    expect(healAction(f({ resource_type: "channel", healed: true }))).toBeNull();
    expect(
      describeFindings([f({ resource_type: "channel" })], { providerId: "deepseek", hostName: "prod" })[0]
        ?.heal_action,
    ).toBe("recreate_channel");
  });
});

describe("nextStep: every finding that stays names a command", () => {
  const f = (over: Partial<Finding>): Finding => ({
    kind: "missing",
    resource_type: "account",
    name: "n",
    host_resource_id: 1,
    message: "m",
    ...over,
  });
  it("one per kind, null once healed", async () => {
    const { nextStep } = await import("../../src/domain/next-steps.js");
    const t = { providerId: "deepseek", hostName: "prod" };
    const kinds = [
      "missing",
      "changed",
      "unexpected",
      "account_failing",
      "access_broken",
      "incompatible",
    ] as const;
    for (const kind of kinds) expect(nextStep(f({ kind, field: "status" }), t)).toMatch(/relay /);
    expect(nextStep(f({ resource_type: "channel" }), t)).toBe(
      "relay provider reconcile deepseek --host prod --heal",
    );
    expect(nextStep(f({ resource_type: "channel", healed: true }), t)).toBeNull();
  });
});
