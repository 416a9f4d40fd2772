// Flat records with the column names of docs/tables.md: one shape for the BigQuery tables and
// the CSV files, so the two outputs cannot drift apart.
import type { DepartmentCostRow, MatrixRow, StorageCostRow } from "./aggregate.ts";
import { keptRaw } from "./kept-raw.ts";
import { formatUsd, toNumericString } from "./money.ts";
import type { Finding, JobCost, RejectedEntry } from "./types.ts";

export interface JobCostRecord {
  job_id: string;
  billing_project: string;
  location: string;
  principal: string;
  payer_department: string;
  consumer_department: string;
  data_projects: string[];
  statement_type: string;
  billed_bytes: string;
  slot_ms: string;
  pricing_model: string;
  /** NUMERIC text, 9 decimals. */
  compute_cost_usd: string;
  end_time: string;
  findings: string[];
  usage_date: string;
  principal_kind: string;
  data_owner_departments: string[];
  job_type: string;
  processed_bytes: string;
  reservation: string;
  cache_hit: boolean;
  error_code: number | null;
  parent_job_id: string | null;
  audit_format: string;
  pricing_basis: string;
}

/** Columns of job_costs.csv: the required ones first, then the rest. */
export const JOB_COST_COLUMNS = [
  "job_id",
  "billing_project",
  "location",
  "principal",
  "payer_department",
  "consumer_department",
  "data_projects",
  "statement_type",
  "billed_bytes",
  "slot_ms",
  "pricing_model",
  "compute_cost_usd",
  "end_time",
  "findings",
  "usage_date",
  "principal_kind",
  "data_owner_departments",
  "job_type",
  "processed_bytes",
  "reservation",
  "cache_hit",
  "error_code",
  "parent_job_id",
  "audit_format",
  "pricing_basis",
] as const satisfies readonly (keyof JobCostRecord)[];

export function jobCostRecord(cost: JobCost): JobCostRecord {
  const { job, attribution, pricing } = cost;
  return {
    job_id: job.jobId,
    billing_project: job.billingProject,
    location: job.location,
    principal: job.principal,
    payer_department: attribution.payerDepartment,
    consumer_department: attribution.consumerDepartment,
    data_projects: attribution.dataProjects,
    statement_type: job.statementType,
    billed_bytes: job.billedBytes.toString(),
    slot_ms: job.slotMs.toString(),
    pricing_model: pricing.pricingModel,
    compute_cost_usd: toNumericString(pricing.computeCost),
    end_time: job.endTime,
    findings: [...new Set(cost.findings.map((finding) => finding.kind))].sort(),
    usage_date: cost.usageDate,
    principal_kind: attribution.principalKind,
    data_owner_departments: attribution.dataOwnerDepartments,
    job_type: job.jobType,
    processed_bytes: job.processedBytes.toString(),
    reservation: job.reservation,
    cache_hit: job.cacheHit,
    error_code: job.error ? job.error.code : null,
    parent_job_id: job.parentJobId ?? null,
    audit_format: job.format,
    pricing_basis: pricing.basis,
  };
}

/** A job_costs record as CSV cells: lists `;`-joined, USD with 6 decimals. */
export function jobCostCsvCells(record: JobCostRecord, cost: JobCost): (string | number | boolean | null)[] {
  return JOB_COST_COLUMNS.map((column) => {
    if (column === "compute_cost_usd") return formatUsd(cost.pricing.computeCost);
    const value = record[column];
    return Array.isArray(value) ? value.join(";") : value;
  });
}

export const DEPARTMENT_COST_COLUMNS = [
  "period",
  "department",
  "compute_paid_usd",
  "compute_consumed_usd",
  "storage_usd",
  "free_rides_given_usd",
  "free_rides_taken_usd",
  "unpriced_jobs",
] as const;

export function departmentCostCells(row: DepartmentCostRow, decimals = 6): string[] {
  return [
    row.period,
    row.department,
    formatUsd(row.computePaid, decimals),
    formatUsd(row.computeConsumed, decimals),
    formatUsd(row.storage, decimals),
    formatUsd(row.freeRidesGiven, decimals),
    formatUsd(row.freeRidesTaken, decimals),
    String(row.unpricedJobs),
  ];
}

export const MATRIX_COLUMNS = [
  "period",
  "payer_department",
  "consumer_department",
  "jobs",
  "compute_cost_usd",
] as const;

export function matrixCells(row: MatrixRow, decimals = 6): (string | number)[] {
  return [
    row.period,
    row.payerDepartment,
    row.consumerDepartment,
    row.jobs,
    formatUsd(row.computeCost, decimals),
  ];
}

export const STORAGE_COST_COLUMNS = [
  "period",
  "department",
  "project_id",
  "dataset",
  "billing_model",
  "storage_usd",
] as const;

export function storageCostCells(row: StorageCostRow, decimals = 6): string[] {
  return [
    row.period,
    row.department,
    row.projectId,
    row.dataset,
    row.billingModel,
    formatUsd(row.storage, decimals),
  ];
}

export const FINDING_COLUMNS = [
  "kind",
  "severity",
  "job_id",
  "billing_project",
  "principal",
  "data_projects",
  "cost_usd",
  "remediation",
  "time",
  "period",
] as const;

export function findingCells(finding: Finding, decimals = 6): string[] {
  return [
    finding.kind,
    finding.severity,
    finding.jobId,
    finding.billingProject,
    finding.principal,
    finding.dataProjects.join(";"),
    formatUsd(finding.cost, decimals),
    finding.remediation,
    finding.time,
    finding.period,
  ];
}

/** A rejected entry as one NDJSON line: where, why, and what is kept of the entry (kept-raw.ts). */
export function rejectedRecord(entry: RejectedEntry): Record<string, unknown> {
  const kept = keptRaw(entry.raw);
  return {
    file: entry.source.file,
    line: entry.source.line,
    reason: entry.reason,
    detail: entry.detail,
    raw: kept.raw,
    raw_bytes: kept.rawBytes,
    raw_sha256: kept.rawSha256,
  };
}
