// One log entry in, rows out: the ingest function's logic without the trigger or the client
// library, so it is tested with plain objects. Rows carry insert ids derived from the job, so a
// redelivered message writes nothing new (BigQuery's best-effort de-duplication) and the
// reports keep one row per job key, the most complete, for what slips through.
import { FINDING_KINDS } from "../core/findings.ts";
import { jobKey } from "../core/job-copies.ts";
import { keptRaw, RAW_KEPT_CHARS } from "../core/kept-raw.ts";
import { toNumericString } from "../core/money.ts";
import { notAfterFor } from "../core/parse.ts";
import { type Assessment, assessEntry, type EntryContext, entryContext } from "../core/pipeline.ts";
import type { Registry } from "../core/registry.ts";
import { jobCostRecord } from "../core/rows.ts";
import type { Finding, SourceRef } from "../core/types.ts";

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

export function findingRow(finding: Finding, usageDate: string, ingestedAt: string): InsertRow {
  return {
    // A read whose job Google redacted has no job id: its time tells it apart from the next one.
    insertId: `${finding.kind}|${finding.jobId}|${finding.billingProject}|${finding.principal}|${finding.jobId ? "" : finding.time}`,
    json: {
      kind: finding.kind,
      severity: finding.severity,
      job_id: finding.jobId,
      billing_project: finding.billingProject,
      principal: finding.principal,
      data_projects: finding.dataProjects,
      cost_usd: toNumericString(finding.cost),
      remediation: finding.remediation,
      finding_time: finding.time,
      usage_date: usageDate,
      ingested_at: ingestedAt,
    },
  };
}

export async function rejectRow(
  sink: RowSink,
  source: SourceRef,
  reason: string,
  detail: string,
  raw: string,
  now: Date,
): Promise<void> {
  const receivedAt = now.toISOString();
  const kept = keptRaw(raw);
  await sink.insert("rejected_entries", [
    {
      // The same message redelivered gets the same id; two different entries never share one,
      // even under one message id (a publisher's retry with another payload).
      insertId: `rejected|${source.file}|${source.line}|${reason}|${kept.rawSha256}`,
      json: {
        received_at: receivedAt,
        source: `${source.file}:${source.line}`,
        reason,
        detail: detail.length > RAW_KEPT_CHARS ? detail.slice(0, RAW_KEPT_CHARS) : detail,
        raw: kept.raw,
        raw_bytes: kept.rawBytes,
        raw_sha256: kept.rawSha256,
      },
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
  await rejectRow(context.sink, source, reason, detail, text, context.now());
  return { kind: "rejected", reason };
}

async function writeAssessment(
  assessed: Assessment,
  source: SourceRef,
  context: IngestContext,
): Promise<IngestResult> {
  const ingestedAt = context.now().toISOString();
  switch (assessed.kind) {
    case "ignored":
      return { kind: "ignored", reason: assessed.reason };
    case "rejected": {
      const { entry } = assessed;
      await rejectRow(context.sink, source, entry.reason, entry.detail, entry.raw, context.now());
      return { kind: "rejected", reason: entry.reason };
    }
    case "table_read": {
      const findings = assessed.finding ? [assessed.finding] : [];
      await writeFindings(findings, assessed.usageDate, ingestedAt, context);
      return { kind: "table_read", findings: findings.length };
    }
    case "job": {
      const { cost } = assessed;
      const record = jobCostRecord(cost);
      await context.sink.insert("job_costs", [
        // One insert id per job key and completeness: a redelivery is dropped, a more complete copy is not.
        {
          insertId: `${jobKey(record.job_id)}#${assessed.job.completeness}`,
          json: { ...record, ingested_at: ingestedAt },
        },
      ]);
      await writeFindings(cost.findings, cost.usageDate, ingestedAt, context);
      return { kind: "job", jobId: record.job_id, findings: cost.findings.length };
    }
  }
}

async function writeFindings(
  findings: Finding[],
  usageDate: string,
  ingestedAt: string,
  context: IngestContext,
) {
  if (findings.length === 0) return;
  await context.sink.insert(
    "findings",
    findings.map((finding) => findingRow(finding, usageDate, ingestedAt)),
  );
  for (const finding of findings) if (FINDING_KINDS[finding.kind].alerts) await context.alerts.alert(finding);
}
