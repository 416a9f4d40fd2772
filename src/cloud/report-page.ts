// report.html for the scheduled cloud report: the period's rows read back from the report
// tables (sql/page/*.sql) into the same ChargebackReport the local CLI renders, then written to
// Cloud Storage (BQ_CHARGEBACK_REPORT_BUCKET) with the function's credentials.
import { sumNanos } from "../core/money.ts";
import type { ChargebackReport } from "../core/pipeline.ts";
import {
  bigQueryInt,
  bigQueryNanos,
  bigQueryText,
  CHARGEBACK_MATRIX,
  DEPARTMENT_COSTS,
  FINDINGS,
  findingOfRow,
  fromBigQuery,
} from "../core/rows.ts";
import { readSql } from "../io/sql-files.ts";
import { renderHtml } from "../report/html.ts";
import { authHeaders, SCOPES } from "./google-auth.ts";
import type { ReportPeriod } from "./report-period.ts";

const pageSql = (name: string) => readSql(`page/${name}`);

export type Row = Record<string, unknown>;
/** Runs one page query (named parameters @from_date, @to_date, @granularity) and returns its rows. */
export type RunQuery = (query: string, params: Record<string, string>) => Promise<Row[]>;

// The page query's own columns (trend, top lists), read as the records read theirs.
const cost = bigQueryNanos;
const count = (value: unknown): bigint => bigQueryInt(value) ?? 0n;
const text = bigQueryText;

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
  const findings = (findingRows ?? []).map((row) => findingOfRow(fromBigQuery(row, FINDINGS)));
  const departmentCosts = (departments ?? []).map((row) => fromBigQuery(row, DEPARTMENT_COSTS));
  const unpricedJobs = Number(departmentCosts.reduce((count, r) => count + r.unpriced_jobs, 0n));
  const rejected: Record<string, number> = {};
  for (const r of rejectedRows ?? []) rejected[text(r.reason)] = Number(count(r.entries));
  const findingsByKind: Record<string, number> = {};
  for (const f of findings) findingsByKind[f.kind] = (findingsByKind[f.kind] ?? 0) + 1;
  const jobsOf = (part: string) => (jobRows ?? []).filter((r) => r.part === part);
  const trendRows = jobsOf("trend");
  const report: ChargebackReport = {
    origin: "report_tables",
    from: period.from,
    to: period.to,
    granularity: period.granularity,
    timeZone,
    departmentCosts,
    chargebackMatrix: (matrix ?? []).map((row) => fromBigQuery(row, CHARGEBACK_MATRIX)),
    storageCosts: [],
    findings,
    trend: trendRows.map((r) => ({
      day: text(r.day),
      department: text(r.department),
      computePaid: cost(r.cost),
    })),
    topJobs: jobsOf("top_job").map((r) => ({
      jobId: text(r.job_id),
      billingProject: text(r.billing_project),
      principal: text(r.principal),
      payerDepartment: text(r.department),
      consumerDepartment: text(r.consumer_department),
      statementType: text(r.statement_type),
      billedBytes: count(r.billed_bytes),
      computeCost: cost(r.cost),
      endTime: text(r.end_time),
      findings: ((r.findings as unknown[]) ?? []).map(text),
    })),
    topPrincipals: jobsOf("top_principal").map((r) => ({
      principal: text(r.principal),
      consumerDepartment: text(r.consumer_department),
      jobs: Number(count(r.jobs)),
      computeCost: cost(r.cost),
    })),
    counters: {
      entries: 0,
      jobs: trendRows.reduce((n, r) => n + Number(count(r.jobs)), 0),
      duplicateJobs: 0,
      outsidePeriod: 0,
      tableReads: 0,
      ignored: {},
      rejected,
    },
    totals: {
      compute: sumNanos(departmentCosts.map((r) => r.compute_paid_usd)),
      storage: sumNanos(departmentCosts.map((r) => r.storage_usd)),
      freeRides: sumNanos(departmentCosts.map((r) => r.free_rides_given_usd)),
      findings: findings.length,
      findingsByKind,
      // the report tables keep the count per department, not the reasons (job_costs.pricing_basis has them)
      unpricedByReason: unpricedJobs > 0 ? { unpriced: unpricedJobs } : {},
    },
  };
  return { report, html: renderHtml(report) };
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
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    ...(endpoint ? {} : await authHeaders(SCOPES.storageWrite)),
  };
  const response = await fetch(url, { method: "POST", headers, body: html });
  if (!response.ok)
    throw new Error(
      `Cloud Storage upload answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
  return `gs://${bucket}/${name}`;
}
