import type { HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { isRecord } from "./json.js";
import type { ChatCompletionRequest, GatewayResult } from "./types.js";

/**
 * One end-user call through the host's standard API, authenticated with a user API key.
 * HTTP failures are results (they are the evidence), not exceptions; only "could not ask" throws.
 */
export async function chatCompletion(
  client: HostClient,
  userApiKey: string,
  request: ChatCompletionRequest,
): Promise<GatewayResult> {
  const started = performance.now();
  try {
    const res = await client.raw({
      operation: "gateway.chat_completions",
      method: "POST",
      path: "/v1/chat/completions",
      auth: { type: "bearer", token: userApiKey },
      retry: "write",
      timeoutMs: 120_000,
      body: {
        model: request.model,
        messages: request.messages,
        max_tokens: request.maxTokens,
        stream: false,
      },
    });
    const body = isRecord(res.json) ? res.json : {};
    const choices = Array.isArray(body.choices) ? body.choices : [];
    const first = isRecord(choices[0]) ? choices[0] : {};
    const message = isRecord(first.message) ? first.message : {};
    const content = typeof message.content === "string" ? message.content : undefined;
    const ok = content !== undefined;
    return {
      ok,
      status: res.status,
      errorCode: ok ? undefined : "EMPTY_COMPLETION",
      message: ok ? undefined : "HTTP 200 without a completion in choices[0].message.content",
      model: typeof body.model === "string" ? body.model : undefined,
      content,
      latencyMs: res.latencyMs,
      servedBy: undefined,
    };
  } catch (err) {
    if (!isHostError(err) || err.kind !== "http" || err.status === undefined) throw err;
    return {
      ok: false,
      status: err.status,
      errorCode: err.routeMissing ? "ROUTE_NOT_FOUND" : err.machineCode,
      message: err.message,
      model: request.model,
      content: undefined,
      latencyMs: Math.round(performance.now() - started),
      servedBy: undefined,
    };
  }
}
