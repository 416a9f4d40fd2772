// Publishes alert messages with the Pub/Sub REST API (topics.publish), through the function's
// own credentials: one small request, no extra client library in the cold start.
import { GoogleAuth } from "google-auth-library";
import type { Publisher } from "./alerts.ts";

export class RestPublisher implements Publisher {
  private readonly auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/pubsub"] });
  private readonly endpoint: string;

  constructor(endpoint = "https://pubsub.googleapis.com") {
    this.endpoint = endpoint;
  }

  async publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<void> {
    const client = await this.auth.getClient();
    await client.request({
      url: `${this.endpoint}/v1/${topic}:publish`,
      method: "POST",
      data: { messages: [{ data: data.toString("base64"), attributes }] },
    });
  }
}
