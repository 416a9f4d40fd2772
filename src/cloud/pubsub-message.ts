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

export function unwrapCloudEvent(event: { id?: string; type?: string; data?: unknown }): UnwrappedEntry {
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
  return {
    text: Buffer.from(payload, "base64").toString("utf8"),
    source: { file: `pubsub:${messageId}`, line: 1 },
  };
}
