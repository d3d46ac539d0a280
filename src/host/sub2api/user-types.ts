/** Host users, their sessions and API keys, and the gateway call (the end-user side of sub2api). */

export interface HostUser {
  id: number;
  email: string;
  username: string;
  role: string;
  status: string;
  balance: number;
  allowedGroups: number[];
}

export interface CreateUserInput {
  email: string;
  password: string;
  username?: string;
  notes?: string;
}

export interface UserSession {
  accessToken: string;
  userId: number | undefined;
}

export type LoginOutcome =
  | { kind: "ok"; session: UserSession }
  | { kind: "blocked"; code: string; message: string };

export interface UserApiKey {
  id: number;
  name: string;
  /** The user key secret; held in memory only for the gateway probe. */
  key: string;
  groupId: number | null;
  status: string;
}

export interface ChatCompletionRequest {
  model: string;
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  maxTokens: number;
}

export interface GatewayResult {
  ok: boolean;
  status: number;
  /** Host error code (`SUBSCRIPTION_NOT_FOUND`, `INSUFFICIENT_BALANCE`, …) or OpenAI error type. */
  errorCode: string | undefined;
  message: string | undefined;
  model: string | undefined;
  content: string | undefined;
  latencyMs: number;
  /** Headers the host may use to reveal the serving account, when present. */
  servedBy: string | undefined;
}
