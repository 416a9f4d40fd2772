// report.html for the scheduled cloud report: the period's rows read back from the report
// tables (sql/page/*.sql) into the same ChargebackReport the local CLI renders, then written to
// Cloud Storage (BQ_CHARGEBACK_REPORT_BUCKET) with the function's credentials.
import { GoogleAuth } from "google-auth-library";
import { parseUsd } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";
import type { Finding, FindingKind, Severity } from "../core/types.ts";
import { readSql } from "../io/sql-files.ts";
import { renderHtml } from "../report/html.ts";
import { buildSummary } from "../report/summary.ts";
import type { ReportPeriod } from "./report-period.ts";

const pageSql = (name: string) => readSql(`page/${name}`);

export type Row = Record<string, unknown>;
/** Runs one page query (named parameters @from_date, @to_date, @granularity) and returns its rows. */
export type RunQuery = (query: string, params: Record<string, string>) => Promise<Row[]>;

/** The client library hands NUMERIC back as big.js, INT64 wrapped, DATE/TIMESTAMP as {value}. */
function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object" && "value" in (value as object))
    return String((value as { value: unknown }).value);
  return String(value);
}

function nanos(value: unknown): bigint {
  if (value === null || value === undefined) return 0n;
  const decimal =
    typeof (value as { toFixed?: unknown }).toFixed === "function"
      ? (value as { toFixed(n: number): string }).toFixed(9)
      : text(value);
  return parseUsd(decimal);
}

function whole(value: unknown): number {
  return Number(text(value) || "0");
}

export async function readReport(
  period: ReportPeriod,
  timeZone: string,
  run: RunQuery,
): Promise<{ report: ChargebackReport; html: string }> {
  const params = { from_date: period.from, to_date: period.to, granularity: period.granularity };
  const [departments, matrix, findingRows, jobRows, rejectedRows] = await Promise.all(
    ["department_costs.sql", "chargeback_matrix.sql", "findings.sql", "jobs.sql", "rejected.sql"].map(
      (name) => run(pageSql(name), params),
    ),
  );
  const findings: Finding[] = (findingRows ?? []).map((r) => ({
    kind: text(r.kind) as FindingKind,
    severity: text(r.severity) as Severity,
    jobId: text(r.job_id),
    billingProject: text(r.billing_project),
    principal: text(r.principal),
    dataProjects: ((r.data_projects as unknown[]) ?? []).map(text),
    cost: nanos(r.cost_usd),
    remediation: text(r.remediation),
    time: text(r.finding_time),
    period: text(r.period),
  }));
  const rejected: Record<string, number> = {};
  for (const r of rejectedRows ?? []) rejected[text(r.reason)] = whole(r.entries);
  const jobsOf = (part: string) => (jobRows ?? []).filter((r) => r.part === part);
  const departmentCosts = (departments ?? []).map((r) => ({
    period: text(r.period),
    department: text(r.department),
    computePaid: nanos(r.compute_paid_usd),
    computeConsumed: nanos(r.compute_consumed_usd),
    storage: nanos(r.storage_usd),
    freeRidesGiven: nanos(r.free_rides_given_usd),
    freeRidesTaken: nanos(r.free_rides_taken_usd),
    unpricedJobs: whole(r.unpriced_jobs),
  }));
  const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
  const unpricedJobs = departmentCosts.reduce((count, r) => count + r.unpricedJobs, 0);
  const findingsByKind: Record<string, number> = {};
  for (const f of findings) findingsByKind[f.kind] = (findingsByKind[f.kind] ?? 0) + 1;
  const trend = jobsOf("trend").map((r) => ({
    day: text(r.day),
    department: text(r.department),
    computePaid: nanos(r.cost),
  }));
  const jobCount = trend.length === 0 ? 0 : jobsOf("trend").reduce((n, r) => n + whole(r.jobs), 0);
  const report: ChargebackReport = {
    from: period.from,
    to: period.to,
    granularity: period.granularity,
    timeZone,
    departmentCosts,
    chargebackMatrix: (matrix ?? []).map((r) => ({
      period: text(r.period),
      payerDepartment: text(r.payer_department),
      consumerDepartment: text(r.consumer_department),
      jobs: whole(r.jobs),
      computeCost: nanos(r.compute_cost_usd),
    })),
    storageCosts: [],
    findings,
    trend,
    topJobs: jobsOf("top_job").map((r) => ({
      jobId: text(r.job_id),
      billingProject: text(r.billing_project),
      principal: text(r.principal),
      payerDepartment: text(r.department),
      consumerDepartment: text(r.consumer_department),
      statementType: text(r.statement_type),
      billedBytes: BigInt(text(r.billed_bytes) || "0"),
      computeCost: nanos(r.cost),
      endTime: text(r.end_time),
      findings: ((r.findings as unknown[]) ?? []).map(text),
    })),
    topPrincipals: jobsOf("top_principal").map((r) => ({
      principal: text(r.principal),
      consumerDepartment: text(r.consumer_department),
      jobs: whole(r.jobs),
      computeCost: nanos(r.cost),
    })),
    counters: {
      entries: 0,
      jobs: jobCount,
      duplicateJobs: 0,
      outsidePeriod: 0,
      tableReads: 0,
      ignored: {},
      rejected,
    },
    totals: {
      compute: sum(departmentCosts.map((r) => r.computePaid)),
      storage: sum(departmentCosts.map((r) => r.storage)),
      freeRides: sum(departmentCosts.map((r) => r.freeRidesGiven)),
      findings: findings.length,
      findingsByKind,
      // the report tables keep the count per department, not the reasons (job_costs.pricing_basis has them)
      unpricedByReason: unpricedJobs > 0 ? { unpriced: unpricedJobs } : {},
    },
  };
  const html = renderHtml(
    report,
    buildSummary(report, { inputs: ["BigQuery report tables"], bytesRead: 0, elapsedMs: 1 }),
  );
  return { report, html };
}

/** Writes the page to gs://bucket/prefix/report-FROM-TO.html (JSON API media upload); returns its URL. */
export async function uploadPage(
  html: string,
  bucketUrl: string,
  period: ReportPeriod,
  endpoint?: string,
): Promise<string> {
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(bucketUrl);
  if (!match) throw new Error(`expected gs://bucket[/prefix], found ${bucketUrl}`);
  const [, bucket = "", prefix = ""] = match;
  const name = `${prefix ? `${prefix.replace(/\/$/, "")}/` : ""}report-${period.from}-${period.to}-${period.granularity}.html`;
  const url = `${endpoint ?? "https://storage.googleapis.com"}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=media&name=${encodeURIComponent(name)}`;
  const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8" };
  if (!endpoint) {
    const client = await new GoogleAuth({
      scopes: ["https://www.googleapis.com/auth/devstorage.read_write"],
    }).getClient();
    const given = (await client.getRequestHeaders()) as unknown as Headers | Record<string, string>;
    if (typeof (given as Headers).forEach === "function") {
      (given as Headers).forEach((value, key) => {
        headers[key] = value;
      });
    } else Object.assign(headers, given);
  }
  const response = await fetch(url, { method: "POST", headers, body: html });
  if (!response.ok)
    throw new Error(
      `Cloud Storage upload answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
  return `gs://${bucket}/${name}`;
}
