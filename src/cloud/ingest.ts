// One log entry in, rows out: the ingest function's logic without the trigger or the client
// library, so it is tested with plain objects. Rows carry insert ids derived from the job, so a
// redelivered message writes nothing new (BigQuery's best-effort de-duplication) and the
// reports keep one row per job key, the most complete, for what slips through.
import { FINDING_KINDS } from "../core/findings.ts";
import { jobKey } from "../core/job-copies.ts";
import { notAfterFor } from "../core/parse.ts";
import { type Assessment, assessEntry, type EntryContext, entryContext } from "../core/pipeline.ts";
import type { Registry } from "../core/registry.ts";
import {
  bigQueryJson,
  FINDINGS,
  findingRow,
  JOB_COSTS,
  jobCostRow,
  REJECTED_ENTRIES,
  rejectedRow,
} from "../core/rows.ts";
import type { Finding, RejectedEntry, SourceRef } from "../core/types.ts";

export interface InsertRow {
  insertId: string;
  json: Record<string, unknown>;
}

/** Thrown by a sink when BigQuery refused rows (a value its schema does not take): not transient. */
export class RowsRejectedError extends Error {}

/** Where rows go: BigQuery in the cloud, memory in tests. Each call writes one table. */
export interface RowSink {
  insert(table: "job_costs" | "findings" | "rejected_entries", rows: InsertRow[]): Promise<void>;
}

export interface AlertSink {
  alert(finding: Finding): Promise<void>;
}

export interface IngestContext extends EntryContext {
  sink: RowSink;
  alerts: AlertSink;
  /** Current time, injected (the core has no clock). */
  now: () => Date;
}

/** The one way to make an ingest context: periods by month, billing days in the given zone. */
export function createIngestContext(options: {
  registry: Registry;
  timeZone: string;
  sink: RowSink;
  alerts: AlertSink;
  now?: () => Date;
}): IngestContext {
  return {
    ...entryContext(options.registry, { timeZone: options.timeZone, granularity: "month" }),
    sink: options.sink,
    alerts: options.alerts,
    now: options.now ?? (() => new Date()),
  };
}

export type IngestResult =
  | { kind: "job"; jobId: string; findings: number }
  | { kind: "table_read"; findings: number }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; reason: string };

/** A finding's row; a read whose job Google redacted has no job id: its time tells it from the next. */
function findingInsert(finding: Finding, ingestedAt: string): InsertRow {
  return {
    insertId: `${finding.kind}|${finding.jobId}|${finding.billingProject}|${finding.principal}|${finding.jobId ? "" : finding.time}`,
    json: { ...bigQueryJson(findingRow(finding), FINDINGS), ingested_at: ingestedAt },
  };
}

/** Keeps an entry that cannot be used, with where it came from and why (rejected_entries). */
export async function insertRejected(sink: RowSink, entry: RejectedEntry, now: Date): Promise<void> {
  const row = rejectedRow(entry);
  await sink.insert("rejected_entries", [
    {
      // The same message redelivered gets the same id; two different entries never share one,
      // even under one message id (a publisher's retry with another payload).
      insertId: `rejected|${row.source}|${row.reason}|${row.raw_sha256}`,
      json: { ...bigQueryJson(row, REJECTED_ENTRIES), received_at: now.toISOString() },
    },
  ]);
}

/** Core's stage one on one entry, its rows written; de-duplication and aggregation are the SQL's. */
export async function ingestEntry(
  text: string,
  source: SourceRef,
  context: IngestContext,
): Promise<IngestResult> {
  // The function instance lives for days: the latest acceptable time moves with its clock.
  const notAfterMs = notAfterFor(context.now().getTime());
  let assessed: Assessment;
  try {
    assessed = assessEntry(text, source, { ...context, notAfterMs });
  } catch (error) {
    // Not transient: a redelivery would fail the same way. Kept, and the message acknowledged.
    return rejectUnprocessable(context, source, "unreadable_entry", error, text);
  }
  try {
    return await writeAssessment(assessed, source, context);
  } catch (error) {
    // BigQuery refused the rows (a value its schema does not take): no retry can help.
    if (error instanceof RowsRejectedError)
      return rejectUnprocessable(context, source, "refused_by_bigquery", error, text);
    throw error;
  }
}

async function rejectUnprocessable(
  context: IngestContext,
  source: SourceRef,
  reason: string,
  error: unknown,
  text: string,
): Promise<IngestResult> {
  const detail = error instanceof Error ? error.message : String(error);
  await insertRejected(context.sink, { kind: "rejected", reason, detail, source, raw: text }, context.now());
  return { kind: "rejected", reason };
}

async function writeAssessment(
  assessed: Assessment,
  _source: SourceRef,
  context: IngestContext,
): Promise<IngestResult> {
  const ingestedAt = context.now().toISOString();
  switch (assessed.kind) {
    case "ignored":
      return { kind: "ignored", reason: assessed.reason };
    case "rejected":
      await insertRejected(context.sink, assessed.entry, context.now());
      return { kind: "rejected", reason: assessed.entry.reason };
    case "table_read": {
      const findings = assessed.finding ? [assessed.finding] : [];
      await writeFindings(findings, ingestedAt, context);
      return { kind: "table_read", findings: findings.length };
    }
    case "job": {
      const row = jobCostRow(assessed.cost);
      await context.sink.insert("job_costs", [
        // One insert id per job key and completeness: a redelivery is dropped, a more complete copy is not.
        {
          insertId: `${jobKey(row.job_id)}#${assessed.job.completeness}`,
          json: { ...bigQueryJson(row, JOB_COSTS), ingested_at: ingestedAt },
        },
      ]);
      await writeFindings(assessed.cost.findings, ingestedAt, context);
      return { kind: "job", jobId: row.job_id, findings: assessed.cost.findings.length };
    }
  }
}

async function writeFindings(findings: Finding[], ingestedAt: string, context: IngestContext) {
  if (findings.length === 0) return;
  await context.sink.insert(
    "findings",
    findings.map((finding) => findingInsert(finding, ingestedAt)),
  );
  for (const finding of findings) if (FINDING_KINDS[finding.kind].alerts) await context.alerts.alert(finding);
}
