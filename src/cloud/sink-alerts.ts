// Alerts in sink mode: the scheduled query cannot write log lines, so the BigQuery Data Transfer
// Service publishes each finished run (a TransferRun as JSON, attributes eventType
// TRANSFER_RUN_FINISHED and payloadFormat JSON_API_V1) to a topic, and this function reads the
// findings that run wrote of the alerting kinds and writes the ingest function's alert lines
// (LogAlertSink), which the same log-based metric and alert policy count.
//
// Pub/Sub delivers at least once, and two deliveries may run at the same time. A run's alerts
// are raised at most once: each delivery reads the run's findings, then claims the run in
// sink_runs (sql/sink/alerts/claim_run.sql: an UPDATE, which BigQuery serialises per table)
// and writes the lines only if its own claim won. A redelivery finds the run claimed and writes
// nothing. The one way to lose a run's alerts is an instance killed between its claim and the
// lines that follow it at once; the findings stay in the findings table, and sink_runs.alerts
// says how many lines the claim was for.
import { randomUUID } from "node:crypto";
import { ALERTING_KINDS } from "../core/findings.ts";
import { FINDINGS, findingOfRow, fromBigQuery } from "../core/rows.ts";
import { readSql } from "../io/sql-files.ts";
import type { AlertSink } from "./ingest.ts";

/** The fields of a TransferRun (google.cloud.bigquery.datatransfer.v1, JSON mapping) this reads. */
export interface TransferRun {
  /** projects/P/locations/L/transferConfigs/C/runs/R */
  name: string;
  state: string;
  /** The run's @run_time: the pipeline stamps what it writes with it. */
  runTime: string;
  errorMessage?: string;
}

/** A notification that can never be used (not a TransferRun): acknowledged, with this message. */
export class TransferRunError extends Error {}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/** The TransferRun of a notification's payload, or a TransferRunError naming the field at fault. */
export function parseTransferRun(text: string, where: string): TransferRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TransferRunError(
      `${where}: payload is not JSON (a TransferRun expected): ${(error as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TransferRunError(`${where}: payload is not a JSON object (a TransferRun expected)`);
  }
  const run = value as Record<string, unknown>;
  const field = (name: string, test: (v: unknown) => boolean, expected: string): string => {
    const found = run[name];
    if (!test(found)) {
      throw new TransferRunError(
        `${where}: TransferRun.${name}: expected ${expected}, found ${JSON.stringify(found)}`,
      );
    }
    return found as string;
  };
  const isString = (v: unknown) => typeof v === "string" && v !== "";
  const status = run.errorStatus as { message?: unknown } | undefined;
  return {
    name: field("name", isString, "projects/P/locations/L/transferConfigs/C/runs/R"),
    state: field("state", isString, "a TransferState (SUCCEEDED, FAILED, CANCELLED)"),
    runTime: field("runTime", (v) => typeof v === "string" && RFC3339.test(v), "an RFC 3339 timestamp"),
    ...(typeof status?.message === "string" ? { errorMessage: status.message } : {}),
  };
}

/** Runs one statement of sql/ in the dataset's location with these typed parameters. */
export type RunQuery = (
  query: string,
  params: Record<string, unknown>,
  types: Record<string, string | string[]>,
) => Promise<Record<string, unknown>[]>;

export type SinkAlertResult =
  | { kind: "raised"; alerts: number }
  | { kind: "already_raised" }
  | { kind: "no_run_recorded" }
  | { kind: "run_not_succeeded"; state: string };

/** Raises the alerts of one finished run of the sink pipeline, at most once per run. */
export async function raiseRunAlerts(
  run: TransferRun,
  deps: { query: RunQuery; alerts: AlertSink; timestamp: (text: string) => unknown },
): Promise<SinkAlertResult> {
  // A failed run is not recorded in sink_runs (its last step); whatever findings it stamped
  // before failing are raised with the next run that succeeds (run_findings.sql).
  if (run.state !== "SUCCEEDED") return { kind: "run_not_succeeded", state: run.state };
  const runTime = deps.timestamp(run.runTime);
  const rows = await deps.query(
    readSql("sink/alerts/run_findings.sql"),
    { run_time: runTime, alerting_kinds: [...ALERTING_KINDS] },
    { run_time: "TIMESTAMP", alerting_kinds: ["STRING"] },
  );
  const findings = rows.map((row) => findingOfRow(fromBigQuery(row, FINDINGS)));
  const claim = randomUUID();
  const claimParams = { run_time: runTime, claim, alerts: findings.length };
  const claimTypes = { run_time: "TIMESTAMP", claim: "STRING", alerts: "INT64" };
  let claimError: unknown;
  try {
    await deps.query(readSql("sink/alerts/claim_run.sql"), claimParams, claimTypes);
  } catch (error) {
    // The answer may be lost after the claim was made: the claim's row below tells.
    claimError = error;
  }
  const [state] = await deps.query(
    readSql("sink/alerts/run_claim.sql"),
    { run_time: runTime, claim },
    { run_time: "TIMESTAMP", claim: "STRING" },
  );
  if (state?.claimed_here !== true) {
    if (claimError) throw claimError;
    return Number(state?.runs ?? 0) === 0 ? { kind: "no_run_recorded" } : { kind: "already_raised" };
  }
  for (const finding of findings) await deps.alerts.alert(finding);
  return { kind: "raised", alerts: findings.length };
}
