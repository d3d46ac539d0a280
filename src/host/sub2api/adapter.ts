import type { AdaptiveLimit } from "../../util/aimd.js";
import * as accounts from "./accounts.js";
import { probeCapabilities } from "./capabilities.js";
import * as channels from "./channels.js";
import { type CallObservation, HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { chatCompletion } from "./gateway.js";
import * as groups from "./groups.js";
import * as plans from "./plans.js";
import * as subscriptions from "./subscriptions.js";
import { getAdminVersion, getPublicSettings } from "./system.js";
import type {
  BulkAssignInput,
  CapabilityReport,
  ChatCompletionRequest,
  CreateAccountInput,
  CreateChannelInput,
  CreateGroupInput,
  CreatePlanInput,
  CreateUserInput,
  HostAdapter,
  HostChannel,
  ListQuery,
  UpstreamPreviewInput,
  UserSession,
} from "./types.js";
import * as users from "./users.js";

export interface AdapterOptions {
  baseUrl: string;
  adminKey: string;
  timeoutMs?: number;
  maxRetries?: number;
  maxRetryAfterMs?: number;
  baseBackoffMs?: number;
  /** From the last capability snapshot; the probe itself updates both. */
  pageSize?: number;
  idempotency?: boolean;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  onCall?: (observation: CallObservation) => void;
  /** The host's adaptive concurrency limit (one per host per process, from the app context). */
  gate?: AdaptiveLimit;
}

/** The HTTP implementation of HostAdapter for sub2api (contract: ../shared/docs/sub2api-contract.md). */
export class Sub2apiAdapter implements HostAdapter {
  readonly baseUrl: string;
  readonly #client: HostClient;
  #pageSize: number;

  constructor(options: AdapterOptions) {
    this.#client = new HostClient(options);
    this.baseUrl = this.#client.baseUrl;
    this.#pageSize = options.pageSize ?? 100;
  }

  async getVersion() {
    try {
      return { version: await getAdminVersion(this.#client), source: "admin" as const };
    } catch (err) {
      // A compliance-locked host still tells its version through the public settings.
      if (!isHostError(err) || err.status !== 423) throw err;
      const settings = await getPublicSettings(this.#client);
      if (!settings.version) throw err;
      return { version: settings.version, source: "public" as const };
    }
  }

  async probeCapabilities(): Promise<CapabilityReport> {
    const report = await probeCapabilities(this.#client);
    this.#pageSize = report.maxPageSize;
    this.#client.setIdempotencySupported(report.capabilities.idempotency);
    return report;
  }

  listGroups(query?: ListQuery) {
    return groups.listGroups(this.#client, this.#pageSize, query);
  }
  createGroup(input: CreateGroupInput) {
    return groups.createGroup(this.#client, input);
  }
  deleteGroup(id: number) {
    return groups.deleteGroup(this.#client, id);
  }

  listChannels(query?: ListQuery) {
    return channels.listChannels(this.#client, this.#pageSize, query);
  }
  createChannel(input: CreateChannelInput) {
    return channels.createChannel(this.#client, input);
  }
  updateChannelModelMapping(
    id: number,
    modelMapping: Record<string, Record<string, string>>,
    modelPricing?: HostChannel["modelPricing"],
  ) {
    return channels.updateChannelModelMapping(this.#client, id, modelMapping, modelPricing);
  }
  deleteChannel(id: number) {
    return channels.deleteChannel(this.#client, id);
  }

  listPlans() {
    return plans.listPlans(this.#client);
  }
  createPlan(input: CreatePlanInput) {
    return plans.createPlan(this.#client, input);
  }
  deletePlan(id: number) {
    return plans.deletePlan(this.#client, id);
  }

  listAccounts(query?: ListQuery) {
    return accounts.listAccounts(this.#client, this.#pageSize, query);
  }
  createAccount(input: CreateAccountInput, idempotencyKey: string) {
    return accounts.createAccount(this.#client, input, idempotencyKey);
  }
  createAccountsBatch(inputs: CreateAccountInput[], idempotencyKey: string) {
    return accounts.createAccountsBatch(this.#client, inputs, idempotencyKey);
  }
  updateAccountGroups(id: number, groupIds: number[]) {
    return accounts.updateAccountGroups(this.#client, id, groupIds);
  }
  updateAccountCredentials(id: number, credentials: Record<string, unknown>) {
    return accounts.updateAccountCredentials(this.#client, id, credentials);
  }
  setAccountSchedulable(id: number, schedulable: boolean) {
    return accounts.setAccountSchedulable(this.#client, id, schedulable);
  }
  bulkUpdateAccountGroups(ids: number[], groupIds: number[]) {
    return accounts.bulkUpdateAccountGroups(this.#client, ids, groupIds);
  }
  deleteAccount(id: number) {
    return accounts.deleteAccount(this.#client, id);
  }
  deleteAccountsBatch(ids: number[]) {
    return accounts.deleteAccountsBatch(this.#client, ids);
  }
  testAccount(id: number, modelId: string) {
    return accounts.testAccount(this.#client, id, modelId);
  }
  listAccountModels(id: number) {
    return accounts.listAccountModels(this.#client, id);
  }
  syncAccountModels(id: number) {
    return accounts.syncAccountModels(this.#client, id);
  }
  previewUpstreamModels(input: UpstreamPreviewInput) {
    return accounts.previewUpstreamModels(this.#client, input);
  }
  getAccountBalance(id: number) {
    return accounts.getAccountBalance(this.#client, id);
  }

  listSubscriptions(query?: ListQuery) {
    return subscriptions.listSubscriptions(this.#client, this.#pageSize, query);
  }
  bulkAssignSubscriptions(input: BulkAssignInput) {
    return subscriptions.bulkAssignSubscriptions(this.#client, input);
  }
  assignSubscription(input: Parameters<typeof subscriptions.assignSubscription>[2]) {
    return subscriptions.assignSubscription(this.#client, this.#pageSize, input);
  }
  extendSubscription(id: number, days: number) {
    return subscriptions.extendSubscription(this.#client, id, days);
  }
  revokeSubscription(id: number) {
    return subscriptions.revokeSubscription(this.#client, id);
  }

  findUserByEmail(email: string) {
    return users.findUserByEmail(this.#client, this.#pageSize, email);
  }
  createUser(input: CreateUserInput) {
    return users.createUser(this.#client, input);
  }
  getUser(id: number) {
    return users.getUser(this.#client, id);
  }
  resetUserPassword(id: number, password: string) {
    return users.resetUserPassword(this.#client, id, password);
  }
  deleteUser(id: number) {
    return users.deleteUser(this.#client, id);
  }
  setUserBalance(userId: number, balance: number, idempotencyKey: string) {
    return users.setUserBalance(this.#client, userId, balance, idempotencyKey);
  }
  login(email: string, password: string) {
    return users.login(this.#client, email, password);
  }
  listUserKeys(session: UserSession) {
    return users.listUserKeys(this.#client, this.#pageSize, session);
  }
  createUserKey(session: UserSession, input: { name: string; groupId: number }) {
    return users.createUserKey(this.#client, session, input);
  }
  deleteUserKey(session: UserSession, id: number) {
    return users.deleteUserKey(this.#client, session, id);
  }

  chatCompletion(userApiKey: string, request: ChatCompletionRequest) {
    return chatCompletion(this.#client, userApiKey, request);
  }
}
