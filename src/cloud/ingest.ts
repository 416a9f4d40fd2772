// One log entry in, rows out: the ingest function's logic without the trigger or the client
// library, so it is tested with plain objects. Rows carry insert ids derived from the job, so a
// redelivered message writes nothing new (BigQuery's best-effort de-duplication) and the
// reports de-duplicate by job_id for what slips through.
import { UnexpectedReadDetector } from "../core/detect.ts";
import { toNumericString } from "../core/money.ts";
import { parseLine } from "../core/parse.ts";
import type { DayClock } from "../core/period.ts";
import { periodOf } from "../core/period.ts";
import { costJob, registryView } from "../core/pipeline.ts";
import type { Registry } from "../core/registry.ts";
import { jobCostRecord } from "../core/rows.ts";
import type { Finding, FindingKind, SourceRef } from "../core/types.ts";

export interface InsertRow {
  insertId: string;
  json: Record<string, unknown>;
}

/** Where rows go: BigQuery in the cloud, memory in tests. Each call writes one table. */
export interface RowSink {
  insert(table: "job_costs" | "findings" | "rejected_entries", rows: InsertRow[]): Promise<void>;
}

/** Findings that page someone as they happen. */
export const ALERTING_KINDS: ReadonlySet<FindingKind> = new Set([
  "external_free_ride",
  "unexpected_billing_project",
  "unregistered_project",
]);

export interface AlertSink {
  alert(finding: Finding): Promise<void>;
}

export interface IngestContext {
  registry: Registry;
  clock: DayClock;
  sink: RowSink;
  alerts: AlertSink;
  /** Current time, injected (the core has no clock). */
  now: () => Date;
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
  await sink.insert("rejected_entries", [
    {
      insertId: `${source.file}|${source.line}|${reason}`,
      json: { received_at: receivedAt, source: `${source.file}:${source.line}`, reason, detail, raw },
    },
  ]);
}

export async function ingestEntry(
  text: string,
  source: SourceRef,
  context: IngestContext,
): Promise<IngestResult> {
  const parsed = parseLine(text, source);
  const ingestedAt = context.now().toISOString();
  switch (parsed.kind) {
    case "ignored":
      return { kind: "ignored", reason: parsed.reason };
    case "rejected":
      await rejectRow(context.sink, source, parsed.reason, parsed.detail, parsed.raw, context.now());
      return { kind: "rejected", reason: parsed.reason };
    case "table_read": {
      const detector = new UnexpectedReadDetector(registryView(context.registry));
      const usageDate = context.clock.dayOf(parsed.timestampMs);
      detector.add(parsed, periodOf(usageDate, "month"));
      const findings = detector.findings();
      await writeFindings(findings, usageDate, ingestedAt, context);
      return { kind: "table_read", findings: findings.length };
    }
    case "job": {
      const cost = costJob(parsed, context.registry, context.clock, "month");
      const record = jobCostRecord(cost);
      await context.sink.insert("job_costs", [
        { insertId: record.job_id, json: { ...record, ingested_at: ingestedAt } },
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
  for (const finding of findings) if (ALERTING_KINDS.has(finding.kind)) await context.alerts.alert(finding);
}
