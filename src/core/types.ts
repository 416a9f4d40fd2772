// The vocabulary of the core, shared by every stage: parse -> attribute -> price -> detect -> aggregate.
// Pure data: no I/O, no clock. docs/architecture.md names the stages.
import type { Nanos } from "./money.ts";

/** Where an entry came from: a file (or "-" for stdin, "pubsub:<messageId>", ...) and its 1-based line. */
export interface SourceRef {
  file: string;
  line: number;
}

/** One LogEntry as Cloud Logging writes it (JSON form). Only what the core reads is named. */
export interface LogEntry {
  insertId?: string;
  logName?: string;
  timestamp?: string;
  receiveTimestamp?: string;
  severity?: string;
  resource?: { type?: string; labels?: Record<string, string> };
  operation?: { id?: string; producer?: string; first?: boolean; last?: boolean };
  protoPayload?: Record<string, unknown>;
  [key: string]: unknown;
}

export type AuditFormat = "v2" | "v1";

/** The state of a job when its entry was written, as BigQuery reports it. */
export type JobState = "PENDING" | "RUNNING" | "DONE";

/** A BigQuery job, as read from one v2 jobChange/jobInsertion or v1 jobcompleted entry. */
export interface JobEvent {
  kind: "job";
  format: AuditFormat;
  /** Which event it came from: v2 "jobChange" | "jobInsertion", v1 "jobcompleted". */
  event: "jobChange" | "jobInsertion" | "jobcompleted";
  /** `P:LOCATION.JOB` (bq's full job id), or `P:JOB` when the entry names no location. Also the de-duplication key. */
  jobId: string;
  /** The project the job ran in: it pays the compute. */
  billingProject: string;
  /** The job id inside its project (`bquxjob_...`, `script_job_...`). */
  jobName: string;
  /** Job location (`US`, `EU`, `europe-west1`); "" when the entry does not say. */
  location: string;
  /** principalEmail, else principalSubject; "" when redacted or absent. */
  principal: string;
  /** Emails of the first-party delegation chain (impersonation), outermost first. */
  delegation: string[];
  state: JobState;
  /** `QUERY`, `COPY`, `EXPORT`, `IMPORT`, or "" when absent. */
  jobType: string;
  /** queryConfig.statementType (`SELECT`, `SCRIPT`, ...), "" for non-query jobs. */
  statementType: string;
  /** A CREATE_MODEL's OPTIONS(model_type=...) in upper case; "" for other jobs or when the text does not tell. */
  modelType: string;
  billedBytes: bigint;
  processedBytes: bigint;
  slotMs: bigint;
  /** Whether totalBilledBytes was present in the entry (absent is not the same as 0: row-level security hides it). */
  billedBytesPresent: boolean;
  /**
   * jobStats.reservation: "" (absent), "unreserved" (on-demand) or a reservation name; for an
   * older entry without it, the one name its reservationUsage gives.
   */
  reservation: string;
  /** jobStats.reservationUsage[] as logged (deprecated by Google, only in older entries); [] when absent. */
  reservationUsage: ReservationUsage[];
  cacheHit: boolean;
  dryRun: boolean;
  /** google.rpc.Status of a failed job. */
  error?: { code: number; message: string };
  /** Referenced tables as `projects/P/datasets/D/tables/T`, in entry order, without duplicates. */
  referencedTables: string[];
  /**
   * Referenced views (logical views) as `projects/P/datasets/D/tables/V`, in entry order, without
   * duplicates. The tables read through them are in referencedTables as well.
   */
  referencedViews: string[];
  /** For children of scripts: the parent's `P:LOCATION.JOB` id (location taken from the child). */
  parentJobId?: string;
  createTime?: string;
  startTime?: string;
  /** RFC 3339 end time as written; jobs are billed by it. */
  endTime: string;
  /** endTime as epoch milliseconds. */
  endTimeMs: number;
  labels: Record<string, string>;
  source: SourceRef;
}

/** One entry of reservationUsage[]: slot-ms a job used in a reservation (or "unreserved"). */
export interface ReservationUsage {
  name: string;
  slotMs: bigint;
}

/** A v2 tableDataRead: a read of one of our tables, logged in the data project's log. */
export interface TableReadEvent {
  kind: "table_read";
  /** The project that holds the table read. */
  dataProject: string;
  /** `projects/P/datasets/D/tables/T`. */
  table: string;
  /** tableDataRead.reason: `JOB`, `TABLEDATA_LIST_REQUEST`, ... */
  reason: string;
  /** The reading job's billing project, from tableDataRead.jobName; undefined when Google redacted it. */
  readerBillingProject?: string;
  /** The reading job as `P:JOB` (no location in this entry); undefined when redacted. */
  readerJobId?: string;
  /**
   * A Storage Read API read (reasons CREATE_READ_SESSION, READ_ROWS): the read session
   * `projects/P/locations/L/sessions/S`, from sessionName or the readStream it streams.
   */
  readSession?: { name: string; project: string; location: string };
  /** READ_ROWS: logical bytes scanned, which the Storage Read API bills per TiB; 0 otherwise. */
  scannedBytes: bigint;
  principal: string;
  timestamp: string;
  timestampMs: number;
  /** logName + insertId: identifies this log entry (to drop repeated entries). */
  entryKey: string;
  source: SourceRef;
}

/** Why an entry is ignored: valid, but carries nothing the chargeback uses. Counted, not kept. */
export interface IgnoredEntry {
  kind: "ignored";
  reason: string;
  source: SourceRef;
}

/** An entry that cannot be used: kept verbatim with where it came from and why. */
export interface RejectedEntry {
  kind: "rejected";
  /** Short stable reason code, e.g. `invalid_json`, `not_bigquery_audit`, `missing_field`. */
  reason: string;
  /** Human sentence naming the field and what was expected. */
  detail: string;
  source: SourceRef;
  /** The raw line (or the JSON text of the entry), as read. */
  raw: string;
}

export type ParsedEntry = JobEvent | TableReadEvent | IgnoredEntry | RejectedEntry;

/** Department ids are registry ids; these are the kinds of non-registry department. */
export const UNASSIGNED = "unassigned";
/** The data owner of a project that is not in the registry. */
export const OUTSIDE = "outside";
export const externalDepartment = (domain: string): string => `external:${domain}`;

export type PrincipalKind =
  | "registered"
  | "service_account"
  | "organization"
  | "partner"
  | "external"
  /** A Google-managed account (default account, service agent) whose project the registry cannot name. */
  | "google_agent"
  | "unknown";
export type BillingProjectKind = "department" | "shared" | "unregistered";

/** Who paid, who consumed, whose data. */
export interface Attribution {
  payerDepartment: string;
  consumerDepartment: string;
  billingProjectKind: BillingProjectKind;
  principalKind: PrincipalKind;
  /** For partner principals: the partner id. */
  partner?: string;
  /** Projects of the referenced tables and views, sorted, unique. */
  dataProjects: string[];
  /** Departments of those projects (registry ids, or "outside" for projects not in the registry), sorted, unique. */
  dataOwnerDepartments: string[];
  /** For a Google-managed account named by a project number the registry does not list: that number. */
  agentProjectNumber?: string;
  /** When the job carries a key of the registry's label_keys: which label, and what it decided. */
  label?: { label: string; use: LabelUse };
  /** The principal's own department, when a label decided the consumer: findings judge the principal's grants. */
  principalDepartment?: string;
}

/**
 * What a job's label (of the registry's label_keys) did: named the consumer; carried a value no
 * department lists; or was set by a principal outside the organisation, whose labels decide nothing.
 */
export type LabelUse = "consumer" | "unknown_value" | "outsider";

export type PricingModel =
  | "on_demand"
  | "reservation"
  | "script_parent"
  | "cache_hit"
  | "free_operation"
  | "not_billed"
  /** BigQuery ML model creation on demand, at its model type's rate. */
  | "bqml"
  | "unpriced";

export interface Pricing {
  pricingModel: PricingModel;
  computeCost: Nanos;
  /** Why the job has the cost it has, in words (e.g. "on-demand US 6.25 USD/TiB from 2023-07-05"). */
  basis: string;
  /** For an unpriced job, why, as a short code counted in the summary: its cost is unknown, not 0. */
  unpricedReason?: UnpricedReason;
}

export type UnpricedReason =
  | "reservation_not_in_registry"
  | "no_edition_price"
  | "no_on_demand_price"
  | "billed_bytes_hidden"
  | "reservation_usage_unsplittable"
  | "model_type_unknown"
  | "no_model_creation_price";

import type { FindingKind, Severity } from "./findings.ts";

export type { FindingKind, Severity };

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** The job's `P:LOCATION.JOB`, or for table reads the reading job as far as known ("" when redacted). */
  jobId: string;
  billingProject: string;
  principal: string;
  dataProjects: string[];
  cost: Nanos;
  /** The grant to remove or the registry entry to add. */
  remediation: string;
  /** RFC 3339 time of the job's end or of the read. */
  time: string;
  /** Billing day of `time` in the report time zone, `YYYY-MM-DD` (as JobCost.usageDate). */
  usageDate: string;
}

/** One attributed, priced job: a row of job_costs. */
export interface JobCost {
  job: JobEvent;
  attribution: Attribution;
  pricing: Pricing;
  findings: Finding[];
  /** The job's billing day in the report time zone, `YYYY-MM-DD`. */
  usageDate: string;
  /** The reporting period: `YYYY-MM` (month) or `YYYY-MM-DD` (day). */
  period: string;
}

export type PeriodGranularity = "day" | "month";

/** One table's row of INFORMATION_SCHEMA.TABLE_STORAGE, bytes as bigint. */
export interface TableStorage {
  projectId: string;
  dataset: string;
  table: string;
  /** Region of the INFORMATION_SCHEMA view it came from (`US`, `EU`, `europe-west1`). */
  location: string;
  /** The dataset's storage billing model. */
  billingModel: "LOGICAL" | "PHYSICAL";
  activeLogicalBytes: bigint;
  longTermLogicalBytes: bigint;
  activePhysicalBytes: bigint;
  longTermPhysicalBytes: bigint;
  timeTravelPhysicalBytes: bigint;
  failSafePhysicalBytes: bigint;
  /** TABLE_STORAGE's `deleted`: a table dropped but still in its time-travel or fail-safe window. */
  deleted: boolean;
  source: SourceRef;
}
