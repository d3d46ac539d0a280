import { createParser } from "eventsource-parser";
import type { HostClient } from "./client.js";
import { isRecord, tryParseJson } from "./json.js";
import type { AccountTestResult } from "./types.js";

const BASE = "/api/v1/admin/accounts";
/** Account tests stream from the upstream and some builds serialise them: read for a long time. */
const TEST_TIMEOUT_MS = 90_000;

/** The SSE account test: success is a `test_complete` event with `success: true`; HTTP is 200 either way. */
export async function testAccount(
  client: HostClient,
  id: number,
  modelId: string,
): Promise<AccountTestResult> {
  const res = await client.raw({
    operation: "accounts.test",
    method: "POST",
    path: `${BASE}/${id}/test`,
    body: { model_id: modelId },
    retry: "write",
    timeoutMs: TEST_TIMEOUT_MS,
  });
  return parseTestStream(res.text, res.latencyMs);
}

/**
 * The account test's event stream, parsed by eventsource-parser (the WHATWG rules: a `data:` field
 * may span several lines, joined with "\n"; comments and other fields are skipped). A last event
 * the stream ended without its blank line is still read, as before.
 */
export function parseTestStream(text: string, latencyMs: number): AccountTestResult {
  let success = false;
  let error: string | undefined;
  let model: string | undefined;
  let content = "";
  const onEvent = ({ data }: { data: string }) => {
    const event = tryParseJson(data.trim());
    if (!isRecord(event)) return;
    if (typeof event.model === "string") model = event.model;
    if (event.type === "content" && typeof event.text === "string") content += event.text;
    if (event.type === "test_complete") {
      success = event.success === true;
      if (!success && typeof event.error === "string") error = event.error;
    }
    if (event.type === "error") {
      success = false;
      error = typeof event.error === "string" ? event.error : "account test failed";
    }
  };
  // The blank line ends a last event the stream was cut before (harmless after a complete one).
  createParser({ onEvent }).feed(`${text}\n\n`);
  if (!success && error === undefined) error = "the test stream ended without a test_complete event";
  return { success, model, error, text: content.slice(0, 200), latencyMs };
}
