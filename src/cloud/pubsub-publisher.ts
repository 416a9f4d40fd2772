// Publishes alert messages with the Pub/Sub REST API (topics.publish), through the function's
// own credentials: one small request, no extra client library in the cold start.
import type { Publisher } from "./alerts.ts";
import { authHeaders, SCOPES } from "./google-auth.ts";

export class RestPublisher implements Publisher {
  private readonly endpoint: string;

  constructor(endpoint = "https://pubsub.googleapis.com") {
    this.endpoint = endpoint;
  }

  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<void> {
    const response = await fetch(`${this.endpoint}/v1/${topic}:publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await authHeaders(SCOPES.pubsub)) },
      body: JSON.stringify({ messages: [{ data: data.toString("base64"), attributes }] }),
    });
    if (!response.ok)
      throw new Error(
        `Pub/Sub publish to ${topic} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
  }
}
