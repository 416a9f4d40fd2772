// The BigQuery adapter: the real client library, pointed at Google or, with
// BIGQUERY_API_ENDPOINT, at an emulator or a test endpoint (then without credentials).
import { BigQuery } from "@google-cloud/bigquery";
import { OAuth2Client } from "google-auth-library";
import type { InsertRow, RowSink } from "./ingest.ts";

export interface BigQueryConfig {
  projectId: string;
  /** http(s)://host:port of an endpoint speaking the BigQuery REST API instead of Google's. */
  apiEndpoint?: string;
}

/** A client whose requests carry a fixed token and never reach Google's auth servers. */
function offlineAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({
    access_token: "local-endpoint",
    expiry_date: Date.now() + 10 * 365 * 24 * 3600 * 1000,
  });
  return client;
}

export function createBigQuery(config: BigQueryConfig): BigQuery {
  if (config.apiEndpoint) {
    return new BigQuery({
      projectId: config.projectId,
      apiEndpoint: config.apiEndpoint,
      authClient: offlineAuthClient(),
    });
  }
  return new BigQuery({ projectId: config.projectId });
}

/** Thrown when BigQuery refused rows (schema mismatch): not transient, but the message must not be lost. */
export class RowsRejectedError extends Error {}

export class BigQueryRowSink implements RowSink {
  private readonly bigquery: BigQuery;
  private readonly dataset: string;

  constructor(bigquery: BigQuery, dataset: string) {
    this.bigquery = bigquery;
    this.dataset = dataset;
  }

  async insert(table: string, rows: InsertRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      // raw: rows are already {insertId, json}; the client retries 429 and 5xx answers itself.
      await this.bigquery.dataset(this.dataset).table(table).insert(rows, { raw: true });
    } catch (error) {
      const partial = error as {
        name?: string;
        errors?: { errors?: { reason?: string; message?: string }[] }[];
      };
      if (partial.name === "PartialFailureError") {
        const reasons = (partial.errors ?? [])
          .flatMap((row) => row.errors ?? [])
          .map((e) => `${e.reason}: ${e.message}`)
          .join("; ");
        throw new RowsRejectedError(`BigQuery refused rows of ${this.dataset}.${table}: ${reasons}`);
      }
      throw error;
    }
  }
}
