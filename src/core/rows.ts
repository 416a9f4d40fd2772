// One record per output table, named and typed as the table's columns (sql/ddl, docs/tables.md),
// defined once here and written by every output: the CSV files, the BigQuery rows, the alerts and
// the pages. Values keep their exact types (money as nano-dollars, INT64 as bigint); each output
// encodes them its own way (csvCells, bigQueryJson) and fromBigQuery reads them back.
import { keptRaw, RAW_KEPT_CHARS } from "./kept-raw.ts";
import { formatUsd, type Nanos, parseUsd, toNumericString } from "./money.ts";
import type { Finding, FindingKind, JobCost, RejectedEntry, Severity } from "./types.ts";

/** BigQuery column types, as the DDL writes them. */
export type ColumnType = "STRING" | "INT64" | "NUMERIC" | "BOOL" | "DATE" | "TIMESTAMP" | "ARRAY<STRING>";

/** A table's columns in order, with their types; every key of the row exactly once (the compiler checks). */
export type Schema<Row> = { readonly [Column in keyof Row]-?: ColumnType };

export interface JobCostRow {
  job_id: string;
  billing_project: string;
  location: string;
  principal: string;
  payer_department: string;
  consumer_department: string;
  data_projects: string[];
  statement_type: string;
  billed_bytes: bigint;
  slot_ms: bigint;
  pricing_model: string;
  compute_cost_usd: Nanos;
  end_time: string;
  findings: string[];
  usage_date: string;
  principal_kind: string;
  data_owner_departments: string[];
  job_type: string;
  processed_bytes: bigint;
  reservation: string;
  cache_hit: boolean;
  error_code: bigint | null;
  parent_job_id: string | null;
  audit_format: string;
  pricing_basis: string;
}

/** job_costs: the required columns first, then the rest. */
export const JOB_COSTS: Schema<JobCostRow> = {
  job_id: "STRING",
  billing_project: "STRING",
  location: "STRING",
  principal: "STRING",
  payer_department: "STRING",
  consumer_department: "STRING",
  data_projects: "ARRAY<STRING>",
  statement_type: "STRING",
  billed_bytes: "INT64",
  slot_ms: "INT64",
  pricing_model: "STRING",
  compute_cost_usd: "NUMERIC",
  end_time: "TIMESTAMP",
  findings: "ARRAY<STRING>",
  usage_date: "DATE",
  principal_kind: "STRING",
  data_owner_departments: "ARRAY<STRING>",
  job_type: "STRING",
  processed_bytes: "INT64",
  reservation: "STRING",
  cache_hit: "BOOL",
  error_code: "INT64",
  parent_job_id: "STRING",
  audit_format: "STRING",
  pricing_basis: "STRING",
};

/** The kinds of a job's findings, sorted, once each (most jobs have none, a few one). */
function findingKinds(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  if (findings.length === 1) return [(findings[0] as Finding).kind];
  return [...new Set(findings.map((finding) => finding.kind))].sort();
}

export function jobCostRow(cost: JobCost): JobCostRow {
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
    billed_bytes: job.billedBytes,
    slot_ms: job.slotMs,
    pricing_model: pricing.pricingModel,
    compute_cost_usd: pricing.computeCost,
    end_time: job.endTime,
    findings: findingKinds(cost.findings),
    usage_date: cost.usageDate,
    principal_kind: attribution.principalKind,
    data_owner_departments: attribution.dataOwnerDepartments,
    job_type: job.jobType,
    processed_bytes: job.processedBytes,
    reservation: job.reservation,
    cache_hit: job.cacheHit,
    error_code: job.error ? BigInt(job.error.code) : null,
    parent_job_id: job.parentJobId ?? null,
    audit_format: job.format,
    pricing_basis: pricing.basis,
  };
}

export interface FindingRow {
  kind: FindingKind;
  severity: Severity;
  job_id: string;
  billing_project: string;
  principal: string;
  data_projects: string[];
  cost_usd: Nanos;
  remediation: string;
  finding_time: string;
  usage_date: string;
}

export const FINDINGS: Schema<FindingRow> = {
  kind: "STRING",
  severity: "STRING",
  job_id: "STRING",
  billing_project: "STRING",
  principal: "STRING",
  data_projects: "ARRAY<STRING>",
  cost_usd: "NUMERIC",
  remediation: "STRING",
  finding_time: "TIMESTAMP",
  usage_date: "DATE",
};

export function findingRow(finding: Finding): FindingRow {
  return {
    kind: finding.kind,
    severity: finding.severity,
    job_id: finding.jobId,
    billing_project: finding.billingProject,
    principal: finding.principal,
    data_projects: finding.dataProjects,
    cost_usd: finding.cost,
    remediation: finding.remediation,
    finding_time: finding.time,
    usage_date: finding.usageDate,
  };
}

export function findingOfRow(row: FindingRow): Finding {
  return {
    kind: row.kind,
    severity: row.severity,
    jobId: row.job_id,
    billingProject: row.billing_project,
    principal: row.principal,
    dataProjects: row.data_projects,
    cost: row.cost_usd,
    remediation: row.remediation,
    time: row.finding_time,
    usageDate: row.usage_date,
  };
}

export interface RejectedRow {
  /** Where the entry came from: `file:line` (`pubsub:MESSAGE_ID:1` in the cloud). */
  source: string;
  reason: string;
  detail: string;
  /** The entry as read, cut short (kept-raw.ts): it can hold query text and personal data. */
  raw: string;
  /** Length of the whole entry in UTF-8 bytes. */
  raw_bytes: bigint;
  /** SHA-256 of the whole entry, hex: finds it in the source log. */
  raw_sha256: string;
}

export const REJECTED_ENTRIES: Schema<RejectedRow> = {
  source: "STRING",
  reason: "STRING",
  detail: "STRING",
  raw: "STRING",
  raw_bytes: "INT64",
  raw_sha256: "STRING",
};

export function rejectedRow(entry: RejectedEntry): RejectedRow {
  const kept = keptRaw(entry.raw);
  return {
    source: `${entry.source.file}:${entry.source.line}`,
    reason: entry.reason,
    detail: entry.detail.length > RAW_KEPT_CHARS ? entry.detail.slice(0, RAW_KEPT_CHARS) : entry.detail,
    raw: kept.raw,
    raw_bytes: BigInt(kept.rawBytes),
    raw_sha256: kept.rawSha256,
  };
}

export interface DepartmentCostRow {
  period: string;
  department: string;
  compute_paid_usd: Nanos;
  compute_consumed_usd: Nanos;
  storage_usd: Nanos;
  free_rides_given_usd: Nanos;
  free_rides_taken_usd: Nanos;
  /** Jobs billed to the department that no rule could price: their cost is unknown, not 0. */
  unpriced_jobs: bigint;
}

export const DEPARTMENT_COSTS: Schema<DepartmentCostRow> = {
  period: "STRING",
  department: "STRING",
  compute_paid_usd: "NUMERIC",
  compute_consumed_usd: "NUMERIC",
  storage_usd: "NUMERIC",
  free_rides_given_usd: "NUMERIC",
  free_rides_taken_usd: "NUMERIC",
  unpriced_jobs: "INT64",
};

export interface MatrixRow {
  period: string;
  payer_department: string;
  consumer_department: string;
  jobs: bigint;
  compute_cost_usd: Nanos;
}

export const CHARGEBACK_MATRIX: Schema<MatrixRow> = {
  period: "STRING",
  payer_department: "STRING",
  consumer_department: "STRING",
  jobs: "INT64",
  compute_cost_usd: "NUMERIC",
};

export interface StorageCostRow {
  period: string;
  department: string;
  project_id: string;
  dataset: string;
  billing_model: string;
  storage_usd: Nanos;
  /** Tables of the row whose location has no storage price: not in storage_usd (pricebook.ts). */
  unpriced_tables: bigint;
}

export const STORAGE_COSTS: Schema<StorageCostRow> = {
  period: "STRING",
  department: "STRING",
  project_id: "STRING",
  dataset: "STRING",
  billing_model: "STRING",
  storage_usd: "NUMERIC",
  unpriced_tables: "INT64",
};

/**
 * Columns BigQuery's tables hold beyond the record: when a streamed row arrived, or the
 * partition of a report table's period. The record is what every output shares.
 */
export const TABLE_STAMPS = {
  job_costs: { ingested_at: "TIMESTAMP" },
  findings: { ingested_at: "TIMESTAMP" },
  rejected_entries: { received_at: "TIMESTAMP" },
  department_costs: { period_start: "DATE", granularity: "STRING" },
  chargeback_matrix: { period_start: "DATE", granularity: "STRING" },
  storage_costs: { period_start: "DATE", granularity: "STRING" },
} as const satisfies Record<string, Record<string, ColumnType>>;

/** Every output table and its record's schema. */
export const TABLES = {
  job_costs: JOB_COSTS,
  findings: FINDINGS,
  rejected_entries: REJECTED_ENTRIES,
  department_costs: DEPARTMENT_COSTS,
  chargeback_matrix: CHARGEBACK_MATRIX,
  storage_costs: STORAGE_COSTS,
} as const satisfies Record<keyof typeof TABLE_STAMPS, object>;

export function columnsOf<Row>(schema: Schema<Row>): (keyof Row & string)[] {
  return Object.keys(schema) as (keyof Row & string)[];
}

export type Cell = string | bigint | boolean | null;

/** A schema's columns and which hold money (NUMERIC), listed once per schema: a job_costs line is written a job. */
const layouts = new WeakMap<object, { columns: string[]; money: boolean[] }>();

function layoutOf(schema: object): { columns: string[]; money: boolean[] } {
  let layout = layouts.get(schema);
  if (!layout) {
    const columns = Object.keys(schema);
    const types = schema as Record<string, ColumnType>;
    layout = { columns, money: columns.map((column) => types[column] === "NUMERIC") };
    layouts.set(schema, layout);
  }
  return layout;
}

/** A record as CSV cells: money in USD with `decimals` (6 in the files), lists `;`-joined. */
export function csvCells<Row>(row: Row, schema: Schema<Row>, decimals = 6): Cell[] {
  const { columns, money } = layoutOf(schema);
  const values = row as Record<string, unknown>;
  const cells: Cell[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const value = values[columns[i] as string];
    if (money[i]) cells[i] = formatUsd(value as Nanos, decimals);
    else if (Array.isArray(value)) cells[i] = value.join(";");
    else cells[i] = value as Cell;
  }
  return cells;
}

/** A record as text cells for a page, money rounded to `decimals`. */
export function textCells<Row>(row: Row, schema: Schema<Row>, decimals: number): string[] {
  return csvCells(row, schema, decimals).map((cell) => (cell === null ? "" : String(cell)));
}

/** A record as insertAll's JSON: NUMERIC as exact text with 9 decimals, INT64 as text (no float on the way). */
export function bigQueryJson<Row>(row: Row, schema: Schema<Row>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const column in schema) {
    const value = row[column] as unknown;
    if (value === null || value === undefined) json[column] = null;
    else if (schema[column] === "NUMERIC") json[column] = toNumericString(value as Nanos);
    else if (typeof value === "bigint") json[column] = value.toString();
    else json[column] = value;
  }
  return json;
}

/** A value as the client library hands it back: DATE/TIMESTAMP as {value}, INT64 wrapped (wrapIntegers). */
export function bigQueryText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object" && "value" in value) return String((value as { value: unknown }).value);
  return String(value);
}

/** NUMERIC as the client library hands it back (big.js, or text) in nano-dollars; NULL as 0. */
export function bigQueryNanos(value: unknown): Nanos {
  const numeric = value as { toFixed?: (digits: number) => string } | null | undefined;
  if (typeof numeric?.toFixed === "function") return parseUsd(numeric.toFixed(9));
  return parseUsd(bigQueryText(value) || "0");
}

/** INT64 as the client library hands it back; NULL as null. */
export function bigQueryInt(value: unknown): bigint | null {
  return value === null || value === undefined ? null : BigInt(bigQueryText(value));
}

/** A row read back from BigQuery (the client library's values) as the record. */
export function fromBigQuery<Row>(raw: Record<string, unknown>, schema: Schema<Row>): Row {
  const row: Record<string, unknown> = {};
  for (const column in schema) {
    const value = raw[column];
    switch (schema[column]) {
      case "NUMERIC":
        row[column] = bigQueryNanos(value);
        break;
      case "INT64":
        row[column] = bigQueryInt(value);
        break;
      case "BOOL":
        row[column] = value === true || value === "true";
        break;
      case "ARRAY<STRING>":
        row[column] = ((value as unknown[] | null) ?? []).map(bigQueryText);
        break;
      default:
        row[column] = value === null || value === undefined ? null : bigQueryText(value);
    }
  }
  return row as Row;
}
