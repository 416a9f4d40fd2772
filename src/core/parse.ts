// Parses a LogEntry into a job, a table read, or a reason. Both BigQuery audit formats:
// v2 BigQueryAuditMetadata in protoPayload.metadata (jobChange, jobInsertion, tableDataRead) and
// v1 AuditData in protoPayload.serviceData (jobCompletedEvent). Field paths follow Google's
// reference (docs/audit-log-fields.md). Never throws: bad input becomes a RejectedEntry that
// names the field and what was expected.
import type { JobEvent, JobState, ParsedEntry, RejectedEntry, SourceRef, TableReadEvent } from "./types.ts";

const V2_TYPE = "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata";
const V1_TYPE = "type.googleapis.com/google.cloud.bigquery.logging.v1.AuditData";
const BIGQUERY = "bigquery.googleapis.com";

const INT64 = /^-?\d{1,19}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const JOB_NAME = /^projects\/([^/]+)\/jobs\/([^/]+)$/;
const TABLE_NAME = /^projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/;

type Json = Record<string, unknown>;

/** A field that is present but wrong: carries the path for the rejection message. */
class FieldError extends Error {
  readonly path: string;
  readonly reason: "invalid_field" | "missing_field";
  constructor(reason: "invalid_field" | "missing_field", path: string, message: string) {
    super(message);
    this.reason = reason;
    this.path = path;
  }
}

function obj(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** An int64 as Google encodes it (a JSON string), or a safe JSON number; absent is 0. */
function int64(value: unknown, path: string, nonNegative = true): bigint {
  if (value === undefined || value === null) return 0n;
  let result: bigint;
  if (typeof value === "string" && INT64.test(value)) result = BigInt(value);
  else if (typeof value === "number" && Number.isSafeInteger(value)) result = BigInt(value);
  else
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected an int64 (a string of digits), found ${describe(value)}`,
    );
  if (nonNegative && result < 0n) {
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected a non-negative count, found ${describe(value)}`,
    );
  }
  return result;
}

function timestamp(
  value: unknown,
  path: string,
  required: boolean,
): { text: string; ms: number } | undefined {
  if (value === undefined || value === null || value === "") {
    if (required)
      throw new FieldError("missing_field", path, `${path}: expected an RFC 3339 timestamp, found nothing`);
    return undefined;
  }
  const ms = typeof value === "string" && RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected an RFC 3339 timestamp, found ${describe(value)}`,
    );
  }
  return { text: value as string, ms };
}

/** Drops partition and snapshot decorators: `t$20240101`, `t@1700000000000`. */
function cleanTable(table: string): string {
  const cut = table.search(/[$@]/);
  return cut >= 0 ? table.slice(0, cut) : table;
}

function uniquePush(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function principalOf(payload: Json): { principal: string; delegation: string[] } {
  const auth = obj(payload.authenticationInfo);
  if (!auth) return { principal: "", delegation: [] };
  const principal = str(auth.principalEmail) || str(auth.principalSubject);
  const delegation: string[] = [];
  const chain = auth.serviceAccountDelegationInfo;
  if (Array.isArray(chain)) {
    for (const link of chain) {
      const email = str(obj(obj(link)?.firstPartyPrincipal)?.principalEmail);
      if (email) delegation.push(email);
    }
  }
  return { principal, delegation };
}

function jobIdOf(project: string, location: string, job: string): string {
  return location ? `${project}:${location}.${job}` : `${project}:${job}`;
}

function rejected(reason: string, detail: string, raw: string, source: SourceRef): RejectedEntry {
  return { kind: "rejected", reason, detail, source, raw };
}

export function parseLine(line: string, source: SourceRef): ParsedEntry {
  if (line.trim() === "") return { kind: "ignored", reason: "blank_line", source };
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch (error) {
    return rejected("invalid_json", `not valid JSON: ${(error as Error).message}`, line, source);
  }
  return parseEntry(entry, line, source);
}

export function parseEntry(entry: unknown, raw: string, source: SourceRef): ParsedEntry {
  const log = obj(entry);
  if (!log) {
    return rejected(
      "not_bigquery_audit",
      `expected a LogEntry object, found ${describe(entry)}`,
      raw,
      source,
    );
  }
  const payload = obj(log.protoPayload);
  if (!payload) {
    const what =
      log.jsonPayload !== undefined
        ? "a jsonPayload"
        : log.textPayload !== undefined
          ? "a textPayload"
          : "no protoPayload";
    return rejected(
      "not_bigquery_audit",
      `protoPayload: expected a BigQuery audit log payload, found ${what}`,
      raw,
      source,
    );
  }
  try {
    let metadata = obj(payload.metadata);
    if (!metadata && typeof payload.metadataJson === "string")
      metadata = obj(JSON.parse(payload.metadataJson));
    if (
      metadata &&
      (metadata["@type"] === V2_TYPE || metadata.jobChange || metadata.jobInsertion || metadata.tableDataRead)
    ) {
      return parseV2(log, payload, metadata, source);
    }
    const serviceData = obj(payload.serviceData);
    if (serviceData && (serviceData["@type"] === V1_TYPE || serviceData.jobCompletedEvent)) {
      return parseV1(payload, serviceData, source);
    }
    const service = str(payload.serviceName);
    if (service === BIGQUERY) {
      if (metadata || serviceData) return { kind: "ignored", reason: "not_a_job_event", source };
      return { kind: "ignored", reason: "no_audit_metadata", source };
    }
    return rejected(
      "not_bigquery_audit",
      `protoPayload.serviceName: expected "${BIGQUERY}", found ${describe(payload.serviceName)}`,
      raw,
      source,
    );
  } catch (error) {
    if (error instanceof FieldError) return rejected(error.reason, error.message, raw, source);
    if (error instanceof SyntaxError) {
      return rejected(
        "invalid_field",
        `protoPayload.metadataJson: expected JSON text, ${error.message}`,
        raw,
        source,
      );
    }
    throw error;
  }
}

function parseV2(log: Json, payload: Json, metadata: Json, source: SourceRef): ParsedEntry {
  const change = obj(metadata.jobChange);
  const insertion = obj(metadata.jobInsertion);
  if (change || insertion) {
    const event = change ? "jobChange" : "jobInsertion";
    const job = obj((change ?? insertion)?.job);
    const base = `protoPayload.metadata.${event}.job`;
    if (!job) throw new FieldError("missing_field", base, `${base}: expected the job, found nothing`);
    const state = str(obj(job.jobStatus)?.jobState);
    const done = change ? str(change.after) === "DONE" || state === "DONE" : state === "DONE";
    if (!done) return { kind: "ignored", reason: "job_not_done", source };
    const name = str(job.jobName);
    const match = JOB_NAME.exec(name);
    if (!match) {
      throw new FieldError(
        "missing_field",
        `${base}.jobName`,
        `${base}.jobName: expected projects/PROJECT/jobs/JOB, found ${describe(job.jobName)}`,
      );
    }
    const [, project = "", jobName = ""] = match;
    const location = str(obj(obj(log.resource)?.labels)?.location);
    const config = obj(job.jobConfig) ?? {};
    const queryConfig = obj(config.queryConfig);
    const stats = obj(job.jobStats) ?? {};
    const queryStats = obj(stats.queryStats) ?? {};
    const end = timestamp(stats.endTime, `${base}.jobStats.endTime`, true) as { text: string; ms: number };
    const status = obj(job.jobStatus);
    const errorResult = obj(status?.errorResult);
    const referencedTables: string[] = [];
    const refs = queryStats.referencedTables;
    if (Array.isArray(refs))
      for (const ref of refs) if (typeof ref === "string") uniquePush(referencedTables, cleanTable(ref));
    const parentMatch = JOB_NAME.exec(str(stats.parentJobName));
    const { principal, delegation } = principalOf(payload);
    const labels = obj(config.labels);
    const result: JobEvent = {
      kind: "job",
      format: "v2",
      event,
      jobId: jobIdOf(project, location, jobName),
      billingProject: project,
      jobName,
      location,
      principal,
      delegation,
      state: "DONE",
      jobType: str(config.type),
      statementType: str(queryConfig?.statementType),
      billedBytes: int64(queryStats.totalBilledBytes, `${base}.jobStats.queryStats.totalBilledBytes`),
      processedBytes: int64(
        queryStats.totalProcessedBytes,
        `${base}.jobStats.queryStats.totalProcessedBytes`,
      ),
      billedBytesPresent: queryStats.totalBilledBytes !== undefined,
      slotMs: int64(stats.totalSlotMs, `${base}.jobStats.totalSlotMs`),
      reservation: str(stats.reservation),
      cacheHit: queryStats.cacheHit === true,
      dryRun: false,
      referencedTables,
      createTime: timestamp(stats.createTime, `${base}.jobStats.createTime`, false)?.text,
      startTime: timestamp(stats.startTime, `${base}.jobStats.startTime`, false)?.text,
      endTime: end.text,
      endTimeMs: end.ms,
      labels: labels ? (labels as Record<string, string>) : {},
      source,
    };
    if (errorResult)
      result.error = { code: Number(errorResult.code ?? 0), message: str(errorResult.message) };
    if (parentMatch)
      result.parentJobId = jobIdOf(parentMatch[1] as string, location, parentMatch[2] as string);
    return result;
  }
  const read = obj(metadata.tableDataRead);
  if (read) return parseTableRead(log, payload, read, source);
  return { kind: "ignored", reason: "not_a_job_event", source };
}

function parseTableRead(log: Json, payload: Json, read: Json, source: SourceRef): TableReadEvent {
  const resourceName = str(payload.resourceName);
  const table = TABLE_NAME.exec(resourceName);
  const dataProject = table?.[1] ?? str(obj(obj(log.resource)?.labels)?.project_id);
  if (!dataProject) {
    throw new FieldError(
      "missing_field",
      "protoPayload.resourceName",
      `protoPayload.resourceName: expected projects/P/datasets/D/tables/T, found ${describe(payload.resourceName)}`,
    );
  }
  const time = timestamp(log.timestamp, "timestamp", true) as { text: string; ms: number };
  // The reading job's name; Google redacts it when the billing project is outside the organisation.
  const reader = JOB_NAME.exec(str(read.jobName));
  const result: TableReadEvent = {
    kind: "table_read",
    dataProject,
    table: table ? cleanTable(resourceName) : resourceName,
    reason: str(read.reason),
    principal: principalOf(payload).principal,
    timestamp: time.text,
    timestampMs: time.ms,
    entryKey: `${str(log.logName)}#${str(log.insertId)}`,
    source,
  };
  if (reader) {
    result.readerBillingProject = reader[1];
    result.readerJobId = `${reader[1]}:${reader[2]}`;
  }
  return result;
}

const V1_JOB_TYPES: Record<string, string> = {
  query: "QUERY",
  load: "IMPORT",
  extract: "EXPORT",
  tableCopy: "COPY",
};

function tableRef(value: unknown): string | undefined {
  const ref = obj(value);
  const project = str(ref?.projectId);
  const dataset = str(ref?.datasetId);
  const table = str(ref?.tableId);
  return project && dataset && table
    ? cleanTable(`projects/${project}/datasets/${dataset}/tables/${table}`)
    : undefined;
}

function parseV1(payload: Json, serviceData: Json, source: SourceRef): ParsedEntry {
  const completed = obj(serviceData.jobCompletedEvent);
  if (!completed) return { kind: "ignored", reason: "not_a_job_event", source };
  const base = "protoPayload.serviceData.jobCompletedEvent.job";
  const job = obj(completed.job);
  if (!job) throw new FieldError("missing_field", base, `${base}: expected the job, found nothing`);
  const status = obj(job.jobStatus);
  const state = str(status?.state) as JobState | "";
  if (state !== "" && state !== "DONE") return { kind: "ignored", reason: "job_not_done", source };
  const name = obj(job.jobName);
  const project = str(name?.projectId);
  const jobName = str(name?.jobId);
  if (!project || !jobName) {
    throw new FieldError(
      "missing_field",
      `${base}.jobName`,
      `${base}.jobName: expected {projectId, jobId}, found ${describe(job.jobName)}`,
    );
  }
  const location = str(name?.location);
  const config = obj(job.jobConfiguration) ?? {};
  const stats = obj(job.jobStatistics) ?? {};
  const end = timestamp(stats.endTime, `${base}.jobStatistics.endTime`, true) as { text: string; ms: number };
  let jobType = "";
  for (const key of Object.keys(V1_JOB_TYPES))
    if (config[key] !== undefined) jobType = V1_JOB_TYPES[key] as string;
  const referencedTables: string[] = [];
  const refs = stats.referencedTables;
  if (Array.isArray(refs)) {
    for (const ref of refs) {
      const table = tableRef(ref);
      if (table) uniquePush(referencedTables, table);
    }
  }
  const error = obj(status?.error);
  const { principal, delegation } = principalOf(payload);
  const labels = obj(config.labels);
  const result: JobEvent = {
    kind: "job",
    format: "v1",
    event: "jobcompleted",
    jobId: jobIdOf(project, location, jobName),
    billingProject: project,
    jobName,
    location,
    principal,
    delegation,
    state: "DONE",
    jobType,
    statementType: str(obj(config.query)?.statementType),
    billedBytes: int64(stats.totalBilledBytes, `${base}.jobStatistics.totalBilledBytes`),
    processedBytes: int64(stats.totalProcessedBytes, `${base}.jobStatistics.totalProcessedBytes`),
    billedBytesPresent: stats.totalBilledBytes !== undefined,
    slotMs: int64(stats.totalSlotMs, `${base}.jobStatistics.totalSlotMs`),
    reservation: str(stats.reservation),
    // v1 has no cacheHit; Google's own v1 view calls a query cached when it has neither
    // processed bytes nor slot-ms nor an error (bigquery-utils bigquery_audit_logs_v1.sql).
    cacheHit:
      jobType === "QUERY" &&
      stats.totalProcessedBytes === undefined &&
      stats.totalSlotMs === undefined &&
      !(error && (error.code !== undefined || error.message !== undefined)),
    dryRun: config.dryRun === true,
    referencedTables,
    createTime: timestamp(stats.createTime, `${base}.jobStatistics.createTime`, false)?.text,
    startTime: timestamp(stats.startTime, `${base}.jobStatistics.startTime`, false)?.text,
    endTime: end.text,
    endTimeMs: end.ms,
    labels: labels ? (labels as Record<string, string>) : {},
    source,
  };
  // A succeeded v1 job carries `"error": {}`.
  if (error && (error.code !== undefined || error.message !== undefined)) {
    result.error = { code: Number(error.code ?? 0), message: str(error.message) };
  }
  return result;
}
