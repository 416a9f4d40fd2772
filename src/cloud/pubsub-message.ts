// Unwraps the LogEntry a Log Router sink published to Pub/Sub, from whatever envelope the
// functions-framework hands over: a CloudEvent `google.cloud.pubsub.topic.v1.messagePublished`
// (data = MessagePublishedData, message.data = base64 LogEntry JSON), the same after the
// framework converted a legacy push body, or an Eventarc `google.cloud.audit.log.v1.written`
// event whose data is the LogEntry itself.
import type { SourceRef } from "../core/types.ts";

export interface UnwrappedEntry {
  /** The LogEntry JSON text. */
  text: string;
  source: SourceRef;
}

export class EnvelopeError extends Error {}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function decodeData(data: unknown): unknown {
  if (Buffer.isBuffer(data)) return JSON.parse(data.toString("utf8"));
  if (typeof data === "string") return JSON.parse(data);
  return data;
}

/** Standard base64 as Pub/Sub writes message.data (line breaks tolerated); one class, so linear. */
const BASE64_CHARS = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

function isBase64(text: string): boolean {
  if (!BASE64_CHARS.test(text)) return false;
  let digits = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 32) digits++;
  // 4n digits, or 4n+2 / 4n+3 without padding; 4n+1 cannot encode whole bytes.
  return digits % 4 !== 1;
}

/**
 * The LogEntry text of a CloudEvent, or an EnvelopeError saying what is wrong with the envelope:
 * nothing else is thrown, so the function can keep and acknowledge what it can never process.
 */
export function unwrapCloudEvent(event: { id?: string; type?: string; data?: unknown }): UnwrappedEntry {
  try {
    return unwrap(event);
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    const what = error instanceof SyntaxError ? "data is not JSON" : "data cannot be read";
    throw new EnvelopeError(
      `CloudEvent ${event.id ?? "?"} (${event.type ?? "?"}): ${what}: ${(error as Error)?.message ?? error}`,
    );
  }
}

/** The envelope as text for rejected_entries: JSON when it can be written, else a description. */
export function envelopeText(event: unknown): string {
  try {
    return JSON.stringify(event) ?? String(event);
  } catch (error) {
    const { id, type } = (asObject(event) ?? {}) as { id?: unknown; type?: unknown };
    return `CloudEvent ${String(id)} (${String(type)}) that cannot be written as JSON: ${(error as Error).message}`;
  }
}

function unwrap(event: { id?: string; type?: string; data?: unknown }): UnwrappedEntry {
  if (event.data === undefined || event.data === null)
    throw new EnvelopeError(`CloudEvent ${event.id ?? "?"} (${event.type ?? "?"}): has no data`);
  const data = asObject(decodeData(event.data));
  if (!data)
    throw new EnvelopeError(`CloudEvent ${event.id ?? "?"} (${event.type ?? "?"}): data is not an object`);
  // Eventarc audit-log trigger: the LogEntry is the data.
  if (data.protoPayload !== undefined || data.logName !== undefined) {
    return { text: JSON.stringify(data), source: { file: `cloudevent:${event.id ?? "?"}`, line: 1 } };
  }
  const message = asObject(data.message) ?? data;
  const payload = message.data;
  const messageId = String(message.messageId ?? message.message_id ?? event.id ?? "?");
  if (typeof payload !== "string") {
    throw new EnvelopeError(
      `Pub/Sub message ${messageId}: message.data is missing (expected base64 LogEntry JSON)`,
    );
  }
  // Buffer.from skips what is not base64 without a word: check first, so garbage is named.
  if (!isBase64(payload)) {
    throw new EnvelopeError(`Pub/Sub message ${messageId}: message.data is not base64`);
  }
  return {
    text: Buffer.from(payload, "base64").toString("utf8"),
    source: { file: `pubsub:${messageId}`, line: 1 },
  };
}
