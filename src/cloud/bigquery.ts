// The BigQuery adapter: the real client library, pointed at Google or, with
// BIGQUERY_API_ENDPOINT, at an emulator or a test endpoint (then without credentials).
import { BigQuery } from "@google-cloud/bigquery";
import { offlineAuthClient } from "./google-auth.ts";
import { type InsertRow, type RowSink, RowsRejectedError } from "./ingest.ts";

export interface BigQueryConfig {
  projectId: string;
  /** http(s)://host:port of an endpoint speaking the BigQuery REST API instead of Google's. */
  apiEndpoint?: string;
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

/**
 * How long one insert may take, the client's own retries of 429 and 5xx included. The client's
 * `timeout` option does nothing here (its HTTP layer, node-fetch 3, dropped that option), so a
 * connection that never answers would hold the function until it is killed. Past this, the
 * invocation fails and Pub/Sub redelivers.
 */
export const INSERT_DEADLINE_MS = 30_000;

export class BigQueryTimeoutError extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BigQueryTimeoutError(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * insertErrors reasons that say nothing about the row: it was not inserted because another row of
 * the request was refused ("stopped"), or BigQuery could not take it now. Source: BigQuery's
 * error messages table (https://cloud.google.com/bigquery/docs/error-messages).
 */
const TRANSIENT_INSERT_REASONS = new Set([
  "stopped",
  "backendError",
  "internalError",
  "timeout",
  "rateLimitExceeded",
  "quotaExceeded",
]);

export class BigQueryRowSink implements RowSink {
  private readonly bigquery: BigQuery;
  private readonly dataset: string;
  private readonly deadlineMs: number;

  constructor(bigquery: BigQuery, dataset: string, deadlineMs = INSERT_DEADLINE_MS) {
    this.bigquery = bigquery;
    this.dataset = dataset;
    this.deadlineMs = deadlineMs;
  }

  async insert(table: string, rows: InsertRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      // raw: rows are already {insertId, json}; the client retries 429 and 5xx answers itself.
      await withDeadline(
        this.bigquery.dataset(this.dataset).table(table).insert(rows, { raw: true }),
        this.deadlineMs,
        `BigQuery insertAll into ${this.dataset}.${table}`,
      );
    } catch (error) {
      const partial = error as {
        name?: string;
        errors?: { errors?: { reason?: string; message?: string }[] }[];
      };
      if (partial.name === "PartialFailureError") {
        const errors = (partial.errors ?? []).flatMap((row) => row.errors ?? []);
        const reasons = errors.map((e) => `${e.reason}: ${e.message}`).join("; ");
        // A row refused for its content (reason "invalid", or one BigQuery gives no transient
        // reason for) fails the same way on every retry: poison. Rows only "stopped" or refused
        // for a transient reason are retried by redelivery.
        if (errors.some((e) => !TRANSIENT_INSERT_REASONS.has(e.reason ?? ""))) {
          throw new RowsRejectedError(`BigQuery refused rows of ${this.dataset}.${table}: ${reasons}`);
        }
        throw new Error(`BigQuery could not insert rows of ${this.dataset}.${table} now: ${reasons}`);
      }
      throw error;
    }
  }
}
