// Parses a LogEntry into a job, a table read, or a reason. Both BigQuery audit formats:
// v2 BigQueryAuditMetadata in protoPayload.metadata (jobChange, jobInsertion, tableDataRead) and
// v1 AuditData in protoPayload.serviceData (jobCompletedEvent). Field paths follow Google's
// reference (docs/audit-log-fields.md). Never throws: bad input becomes a RejectedEntry that
// names the field and what was expected.
import { rfc3339Ms } from "./rfc3339.ts";
import type {
  JobEvent,
  JobState,
  ParsedEntry,
  RejectedEntry,
  ReservationUsage,
  SourceRef,
  TableReadEvent,
} from "./types.ts";

const V2_TYPE = "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata";
const V1_TYPE = "type.googleapis.com/google.cloud.bigquery.logging.v1.AuditData";
const BIGQUERY = "bigquery.googleapis.com";

const INT64 = /^-?\d{1,19}$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The instants an entry may carry. BigQuery's audit logs begin after its 2011 launch; an entry
 * from a later time than the reader's clock (plus skew) is a forgery or a broken clock. Both
 * bounds also keep every date inside what BigQuery's TIMESTAMP and DATE columns accept.
 */
export const EARLIEST_ENTRY_MS = Date.UTC(2011, 0, 1);
/** Without a clock (pure use), the latest instant accepted. */
export const LATEST_ENTRY_MS = Date.UTC(2100, 0, 1);
/** How far ahead of the reader's clock an entry's time may be (clock skew between hosts). */
export const CLOCK_SKEW_MS = 24 * 3_600_000;

export interface ParseOptions {
  /** Timestamps after this instant are rejected: the reader's now plus CLOCK_SKEW_MS. */
  notAfterMs?: number;
}

/** The latest entry time to accept when the clock says `nowMs`. */
export function notAfterFor(nowMs: number): number {
  return Math.min(nowMs + CLOCK_SKEW_MS, LATEST_ENTRY_MS);
}
const JOB_NAME = /^projects\/([^/]+)\/jobs\/([^/]+)$/;
const TABLE_NAME = /^projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/;
/** A read session, or one of its streams: `projects/P/locations/L/sessions/S[/streams/X]`. */
const READ_SESSION = /^(projects\/([^/]+)\/locations\/([^/]+)\/sessions\/[^/]+)(?:\/streams\/[^/]+)?$/;

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

const DESCRIBE_LENGTH = 60;

/**
 * A short JSON-like preview of a value for a rejection message. Bounded in depth and length:
 * JSON.stringify recurses, and a value nested a few thousand levels overflows the stack.
 */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = preview(value, 3, DESCRIBE_LENGTH + 1);
  return text.length > DESCRIBE_LENGTH ? `${text.slice(0, DESCRIBE_LENGTH - 3)}...` : text;
}

function preview(value: unknown, depth: number, budget: number): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (typeof value !== "object" || value === null) return String(value);
  const open = Array.isArray(value) ? "[" : "{";
  const close = Array.isArray(value) ? "]" : "}";
  if (depth === 0) return `${open}...${close}`;
  let text = open;
  for (const key in value) {
    if (text.length > budget) break;
    if (text.length > 1) text += ",";
    const item = preview((value as Json)[key], depth - 1, budget - text.length);
    text += Array.isArray(value) ? item : `${JSON.stringify(key.slice(0, budget))}:${item}`;
  }
  return text + close;
}

function inInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** 1 to 18 ASCII digits: a non-negative int64 whatever they are (10^18 - 1 < 2^63 - 1). */
function shortDigits(text: string): boolean {
  if (text.length === 0 || text.length > 18) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** An int64 as Google encodes it (a JSON string), or a safe JSON number; absent is 0. */
function int64(value: unknown, path: string, nonNegative = true): bigint {
  if (value === undefined || value === null) return 0n;
  // The common case, up to 18 digits: always in range and never negative, so no checks after.
  if (typeof value === "string" && shortDigits(value)) return BigInt(value);
  let result: bigint;
  if (typeof value === "string" && INT64.test(value)) {
    result = BigInt(value);
    if (!inInt64(result))
      throw new FieldError(
        "invalid_field",
        path,
        `${path}: expected an int64 from -2^63 to 2^63-1, found ${describe(value)}`,
      );
  } else if (typeof value === "number" && Number.isSafeInteger(value)) result = BigInt(value);
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
  notAfterMs: number,
): { text: string; ms: number } | undefined {
  if (value === undefined || value === null || value === "") {
    if (required)
      throw new FieldError("missing_field", path, `${path}: expected an RFC 3339 timestamp, found nothing`);
    return undefined;
  }
  const ms = typeof value === "string" ? rfc3339Ms(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected an RFC 3339 timestamp, found ${describe(value)}`,
    );
  }
  if (ms < EARLIEST_ENTRY_MS || ms > notAfterMs) {
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected a time from ${new Date(EARLIEST_ENTRY_MS).toISOString()} to ${new Date(notAfterMs).toISOString()}, found ${describe(value)}`,
    );
  }
  return { text: value as string, ms };
}

/** A google.rpc.Status code: an int32 (a JSON number, or a string as proto3 JSON allows); absent is 0. */
function errorCode(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  const code = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof code === "number" && Number.isInteger(code) && Math.abs(code) <= INT32_MAX) return code;
  throw new FieldError(
    "invalid_field",
    path,
    `${path}: expected an int32 status code, found ${describe(value)}`,
  );
}

function stringLabels(labels: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  // A map in proto3 JSON is an object; a sink table's v1 record exports it as repeated {key, value}.
  if (Array.isArray(labels)) {
    for (const item of labels) {
      const entry = obj(item);
      if (typeof entry?.key === "string" && typeof entry.value === "string") result[entry.key] = entry.value;
    }
  } else if (obj(labels))
    for (const [key, value] of Object.entries(labels as Json))
      if (typeof value === "string") result[key] = value;
  return result;
}

/**
 * Every text the entry gave us, checked to be well-formed Unicode: JSON can spell an unpaired
 * surrogate (backslash-u d800), which no UTF-8 column can store, so BigQuery would refuse the row.
 */
function wellFormed<T extends JobEvent | TableReadEvent>(event: T): T {
  const fields = event as unknown as Record<string, unknown>;
  // for-in, not Object.keys: no array a job (an event is a plain object: own fields only)
  for (const field in fields) {
    const value = fields[field];
    if (typeof value === "string") {
      if (!value.isWellFormed()) unpairedSurrogate(field, value);
    } else if (Array.isArray(value)) {
      for (const text of value)
        if (typeof text === "string" && !text.isWellFormed()) unpairedSurrogate(field, text);
    }
  }
  if (event.kind === "job" && event.error && !event.error.message.isWellFormed())
    throw new FieldError(
      "invalid_field",
      "error.message",
      "error.message: expected Unicode text, found an unpaired surrogate",
    );
  return event;
}

function unpairedSurrogate(field: string, text: string): never {
  throw new FieldError(
    "invalid_field",
    field,
    `${field}: expected Unicode text, found an unpaired surrogate in ${describe(text)}`,
  );
}

/** Drops partition and snapshot decorators: `t$20240101`, `t@1700000000000`. */
function cleanTable(table: string): string {
  // two indexOf, not a regular expression: every referenced table of every job comes here
  const dollar = table.indexOf("$");
  const at = table.indexOf("@");
  const cut = dollar < 0 ? at : at < 0 ? dollar : Math.min(dollar, at);
  return cut >= 0 ? table.slice(0, cut) : table;
}

function uniquePush(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/** v2 `referencedTables` / `referencedViews`: `projects/P/datasets/D/tables/T` strings. */
function tableNames(refs: unknown): string[] {
  const names: string[] = [];
  if (Array.isArray(refs))
    for (const ref of refs) if (typeof ref === "string") uniquePush(names, cleanTable(ref));
  return names;
}

/**
 * An email has at most 254 characters, a federated principal:// subject a few hundred; a longer
 * one is not a principal, and attribution's per-domain lookups would grow with its length.
 */
const MAX_PRINCIPAL_CHARS = 1024;

function principalOf(payload: Json): { principal: string; delegation: string[] } {
  const auth = obj(payload.authenticationInfo);
  if (!auth) return { principal: "", delegation: [] };
  const principal = str(auth.principalEmail) || str(auth.principalSubject);
  if (principal.length > MAX_PRINCIPAL_CHARS) {
    const path = `protoPayload.authenticationInfo.${str(auth.principalEmail) ? "principalEmail" : "principalSubject"}`;
    throw new FieldError(
      "invalid_field",
      path,
      `${path}: expected at most ${MAX_PRINCIPAL_CHARS} characters, found ${principal.length}`,
    );
  }
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

export function parseLine(line: string, source: SourceRef, options: ParseOptions = {}): ParsedEntry {
  if (line.trim() === "") return { kind: "ignored", reason: "blank_line", source };
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch (error) {
    return rejected("invalid_json", `not valid JSON: ${(error as Error).message}`, line, source);
  }
  return parseEntry(entry, line, source, options);
}

export function parseEntry(
  entry: unknown,
  raw: string,
  source: SourceRef,
  options: ParseOptions = {},
): ParsedEntry {
  try {
    return parseLogEntry(entry, raw, source, options.notAfterMs ?? LATEST_ENTRY_MS);
  } catch (error) {
    // A defect here must cost one entry, not the run (or, in the function, a poison message).
    return rejected(
      "unreadable_entry",
      `the entry could not be read: ${(error as Error)?.message ?? String(error)}`,
      raw,
      source,
    );
  }
}

function parseLogEntry(entry: unknown, raw: string, source: SourceRef, notAfterMs: number): ParsedEntry {
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
      return parseV2(log, payload, metadata, source, notAfterMs);
    }
    const serviceData = obj(payload.serviceData);
    if (serviceData && (serviceData["@type"] === V1_TYPE || serviceData.jobCompletedEvent)) {
      return parseV1(payload, serviceData, source, notAfterMs);
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

function parseV2(
  log: Json,
  payload: Json,
  metadata: Json,
  source: SourceRef,
  notAfterMs: number,
): ParsedEntry {
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
    const end = timestamp(stats.endTime, `${base}.jobStats.endTime`, true, notAfterMs) as {
      text: string;
      ms: number;
    };
    const status = obj(job.jobStatus);
    const errorResult = obj(status?.errorResult);
    const referencedTables = tableNames(queryStats.referencedTables);
    const referencedViews = tableNames(queryStats.referencedViews);
    const parentMatch = JOB_NAME.exec(str(stats.parentJobName));
    const { principal, delegation } = principalOf(payload);
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
      modelType: modelTypeOf(
        str(queryConfig?.statementType),
        queryConfig?.query,
        queryConfig?.queryTruncated === true,
      ),
      billedBytes: int64(queryStats.totalBilledBytes, `${base}.jobStats.queryStats.totalBilledBytes`),
      processedBytes: int64(
        queryStats.totalProcessedBytes,
        `${base}.jobStats.queryStats.totalProcessedBytes`,
      ),
      billedBytesPresent: queryStats.totalBilledBytes !== undefined,
      slotMs: int64(stats.totalSlotMs, `${base}.jobStats.totalSlotMs`),
      reservation: "",
      reservationUsage: [],
      cacheHit: queryStats.cacheHit === true,
      dryRun: false,
      referencedTables,
      referencedViews,
      createTime: timestamp(stats.createTime, `${base}.jobStats.createTime`, false, notAfterMs)?.text,
      startTime: timestamp(stats.startTime, `${base}.jobStats.startTime`, false, notAfterMs)?.text,
      endTime: end.text,
      endTimeMs: end.ms,
      labels: stringLabels(config.labels),
      source,
    };
    // read after the times, in the order sql/sink/00_sink_entries.sql checks the fields
    result.reservationUsage = reservationUsageOf(stats.reservationUsage, `${base}.jobStats`);
    result.reservation = reservationOf(stats.reservation, result.reservationUsage);
    if (errorResult)
      result.error = {
        code: errorCode(errorResult.code, `${base}.jobStatus.errorResult.code`),
        message: str(errorResult.message),
      };
    if (parentMatch)
      result.parentJobId = jobIdOf(parentMatch[1] as string, location, parentMatch[2] as string);
    return wellFormed(result);
  }
  const read = obj(metadata.tableDataRead);
  if (read) return parseTableRead(log, payload, read, source, notAfterMs);
  return { kind: "ignored", reason: "not_a_job_event", source };
}

function parseTableRead(
  log: Json,
  payload: Json,
  read: Json,
  source: SourceRef,
  notAfterMs: number,
): TableReadEvent {
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
  const time = timestamp(log.timestamp, "timestamp", true, notAfterMs) as { text: string; ms: number };
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
    scannedBytes: int64(read.scannedBytes, "protoPayload.metadata.tableDataRead.scannedBytes"),
    source,
  };
  // The Storage Read API: the session (CREATE_READ_SESSION) or the stream read (READ_ROWS) names
  // the project that created the session, which is billed for the bytes read.
  const session = READ_SESSION.exec(str(read.sessionName) || str(read.readStream));
  if (session)
    result.readSession = {
      name: session[1] as string,
      project: session[2] as string,
      location: session[3] as string,
    };
  if (reader) {
    result.readerBillingProject = reader[1];
    result.readerJobId = `${reader[1]}:${reader[2]}`;
  }
  return wellFormed(result);
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

/**
 * A CREATE MODEL's OPTIONS(model_type = 'X'): the audit log has no model type field (neither
 * BigQueryAuditMetadata.JobStats nor v1 JobStatistics carry ML statistics), only the statement's
 * text. The same pattern runs in sql/sink/00_sink_entries.sql (RE2: no back-references, so either
 * quote closes).
 */
export const MODEL_TYPE_OPTION = /\bmodel_type\s*=\s*['"]([A-Za-z_]+)['"]/gi;

/**
 * The model type of a CREATE_MODEL job, upper case; "" for other statements, for a truncated
 * text (queryTruncated) and when the text names no model type or more than one (a comment, a
 * string), so an uncertain text is never priced as some model.
 */
function modelTypeOf(statementType: string, query: unknown, truncated: boolean): string {
  if (statementType !== "CREATE_MODEL" || truncated || typeof query !== "string") return "";
  const types = new Set(
    [...query.matchAll(MODEL_TYPE_OPTION)].map((match) => String(match[1]).toUpperCase()),
  );
  return types.size === 1 ? ([...types][0] as string) : "";
}

/** v1 `referencedTables` / `referencedViews`: `{projectId, datasetId, tableId}` records. */
function tableRefs(refs: unknown): string[] {
  const names: string[] = [];
  if (Array.isArray(refs))
    for (const ref of refs) {
      const table = tableRef(ref);
      if (table) uniquePush(names, table);
    }
  return names;
}

/** Statements whose results the query cache may serve ("" when the entry does not say). */
const CACHEABLE_STATEMENTS = new Set(["SELECT", ""]);

/**
 * reservationUsage[] {name, slotMs} of v2 JobStats and v1 JobStatistics, read and checked (a bad
 * slotMs rejects the entry, naming it). Google stopped filling both: "This field reported
 * misleading information and will no longer be populated" (bigquery_audit_metadata.proto
 * JobStats.reservation_usage, "attributed from each tier of a reservation hierarchy";
 * audit_data.proto JobStatistics.reservation_usage), so only older entries carry it, and
 * pricing trusts it only where it cannot double count (pricebook.ts reservationSplitCost).
 */
function reservationUsageOf(value: unknown, path: string): ReservationUsage[] {
  if (!Array.isArray(value)) return [];
  return value.map((item, i) => {
    const name = str(obj(item)?.name);
    // a name reaches pricing_basis (a split's parts), which a UTF-8 column must be able to store
    if (!name.isWellFormed()) unpairedSurrogate(`${path}.reservationUsage[${i}].name`, name);
    return { name, slotMs: int64(obj(item)?.slotMs, `${path}.reservationUsage[${i}].slotMs`) };
  });
}

/**
 * The reservation a job ran in: `reservation` as logged ("Reservation name or "unreserved""),
 * else, for an older entry without it, the one name its reservationUsage[] gives ("" when it
 * names none or several: pricing then splits or refuses, never guesses).
 */
function reservationOf(logged: unknown, usage: readonly ReservationUsage[]): string {
  const named = str(logged);
  if (named) return named;
  const names = new Set(usage.map((entry) => entry.name).filter((name) => name !== ""));
  return names.size === 1 ? ([...names][0] as string) : "";
}

function parseV1(payload: Json, serviceData: Json, source: SourceRef, notAfterMs: number): ParsedEntry {
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
  const end = timestamp(stats.endTime, `${base}.jobStatistics.endTime`, true, notAfterMs) as {
    text: string;
    ms: number;
  };
  let jobType = "";
  for (const key of Object.keys(V1_JOB_TYPES))
    if (config[key] !== undefined) jobType = V1_JOB_TYPES[key] as string;
  const referencedTables = tableRefs(stats.referencedTables);
  const referencedViews = tableRefs(stats.referencedViews);
  const error = obj(status?.error);
  const { principal, delegation } = principalOf(payload);
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
    modelType: modelTypeOf(str(obj(config.query)?.statementType), obj(config.query)?.query, false),
    billedBytes: int64(stats.totalBilledBytes, `${base}.jobStatistics.totalBilledBytes`),
    processedBytes: int64(stats.totalProcessedBytes, `${base}.jobStatistics.totalProcessedBytes`),
    billedBytesPresent: stats.totalBilledBytes !== undefined,
    slotMs: int64(stats.totalSlotMs, `${base}.jobStatistics.totalSlotMs`),
    reservation: "",
    reservationUsage: [],
    // v1 has no cacheHit; Google's own v1 view calls a query cached when it has neither
    // processed bytes nor slot-ms nor an error (bigquery-utils bigquery_audit_logs_v1.sql). Only a
    // SELECT's results are served from the cache (https://cloud.google.com/bigquery/docs/cached-results):
    // a DDL or DML statement without bytes is a free statement, not a cache hit.
    cacheHit:
      jobType === "QUERY" &&
      CACHEABLE_STATEMENTS.has(str(obj(config.query)?.statementType)) &&
      stats.totalProcessedBytes === undefined &&
      stats.totalSlotMs === undefined &&
      !(error && (error.code !== undefined || error.message !== undefined)),
    dryRun: config.dryRun === true,
    referencedTables,
    referencedViews,
    createTime: timestamp(stats.createTime, `${base}.jobStatistics.createTime`, false, notAfterMs)?.text,
    startTime: timestamp(stats.startTime, `${base}.jobStatistics.startTime`, false, notAfterMs)?.text,
    endTime: end.text,
    endTimeMs: end.ms,
    labels: stringLabels(config.labels),
    source,
  };
  result.reservationUsage = reservationUsageOf(stats.reservationUsage, `${base}.jobStatistics`);
  result.reservation = reservationOf(stats.reservation, result.reservationUsage);
  // A succeeded v1 job carries `"error": {}`.
  if (error && (error.code !== undefined || error.message !== undefined)) {
    result.error = {
      code: errorCode(error.code, `${base}.jobStatus.error.code`),
      message: str(error.message),
    };
  }
  return wellFormed(result);
}
