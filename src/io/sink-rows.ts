// Rows of a Log Router sink's BigQuery table exported to files, turned back into the LogEntry
// they were written from, so the one parser (core/parse.ts) reads them like any other entry.
//
// The table (cloudaudit_googleapis_com_data_access / _activity): LogEntry fields keep their names;
// protoPayload (an AuditLog) becomes the record protopayload_auditlog, its v2 metadata the JSON
// text metadataJson and its v1 serviceData the record servicedata_v1_bigquery; `@type` fields are
// dropped (https://cloud.google.com/logging/docs/export/bigquery; shared/reference/
// audit-log-formats.md §5.2). How the exports write the columns (test/fixtures/sink/README.md):
// `bq query --format=json` prints every column (null when NULL), INT64 and BOOL as strings;
// `bq extract` to NEWLINE_DELIMITED_JSON leaves NULL columns out, INT64 as strings
// (https://cloud.google.com/bigquery/docs/exporting-data); TIMESTAMPs as in bq-timestamp.ts.
// The schema below is the subset of the table's columns the tool reads; it also describes the
// table to ZetaSQL for sql/sink (test/support/sink-rows.ts).
import { rfc3339FromBq } from "./bq-timestamp.ts";

/** A column's type, in BigQuery's names; a RECORD is a struct, a REPEATED column an array. */
export type ColumnType =
  | "STRING"
  | "INT64"
  | "BOOL"
  | "TIMESTAMP"
  | { array: ColumnType }
  | { struct: Column[] };

export interface Column {
  name: string;
  type: ColumnType;
}

const tableRef: ColumnType = {
  struct: [
    { name: "projectId", type: "STRING" },
    { name: "datasetId", type: "STRING" },
    { name: "tableId", type: "STRING" },
  ],
};

const v1Job: ColumnType = {
  struct: [
    {
      name: "jobName",
      type: {
        struct: [
          { name: "projectId", type: "STRING" },
          { name: "jobId", type: "STRING" },
          { name: "location", type: "STRING" },
        ],
      },
    },
    {
      name: "jobConfiguration",
      type: {
        struct: [
          {
            name: "query",
            type: {
              struct: [
                { name: "query", type: "STRING" },
                { name: "statementType", type: "STRING" },
              ],
            },
          },
          { name: "load", type: { struct: [{ name: "sourceUris", type: { array: "STRING" } }] } },
          { name: "extract", type: { struct: [{ name: "destinationUris", type: { array: "STRING" } }] } },
          { name: "tableCopy", type: { struct: [{ name: "destinationTable", type: tableRef }] } },
          { name: "dryRun", type: "BOOL" },
          // the labels map, exported as a repeated key/value record (read back as such: parse.ts
          // reads both forms; doitintl/bigquery-optimization-queries audit_log/top_billed_labels.sql
          // reads `UNNEST(...jobConfiguration.labels)`, `labels.key`, `labels.value`)
          {
            name: "labels",
            type: {
              array: {
                struct: [
                  { name: "key", type: "STRING" },
                  { name: "value", type: "STRING" },
                ],
              },
            },
          },
        ],
      },
    },
    {
      name: "jobStatus",
      type: {
        struct: [
          { name: "state", type: "STRING" },
          {
            name: "error",
            type: {
              struct: [
                { name: "code", type: "INT64" },
                { name: "message", type: "STRING" },
              ],
            },
          },
        ],
      },
    },
    {
      name: "jobStatistics",
      type: {
        struct: [
          { name: "createTime", type: "TIMESTAMP" },
          { name: "startTime", type: "TIMESTAMP" },
          { name: "endTime", type: "TIMESTAMP" },
          { name: "totalProcessedBytes", type: "INT64" },
          { name: "totalBilledBytes", type: "INT64" },
          { name: "totalSlotMs", type: "INT64" },
          { name: "reservation", type: "STRING" },
          {
            name: "reservationUsage",
            type: {
              array: {
                struct: [
                  { name: "name", type: "STRING" },
                  { name: "slotMs", type: "INT64" },
                ],
              },
            },
          },
          { name: "referencedTables", type: { array: tableRef } },
          { name: "referencedViews", type: { array: tableRef } },
        ],
      },
    },
  ],
};

export const SINK_TABLE: { name: string; columns: Column[] } = {
  name: "cloudaudit_googleapis_com_data_access",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "receiveTimestamp", type: "TIMESTAMP" },
    { name: "logName", type: "STRING" },
    { name: "insertId", type: "STRING" },
    {
      name: "resource",
      type: {
        struct: [
          { name: "type", type: "STRING" },
          {
            name: "labels",
            type: {
              struct: [
                { name: "project_id", type: "STRING" },
                { name: "location", type: "STRING" },
                { name: "dataset_id", type: "STRING" },
              ],
            },
          },
        ],
      },
    },
    {
      name: "protopayload_auditlog",
      type: {
        struct: [
          { name: "serviceName", type: "STRING" },
          { name: "methodName", type: "STRING" },
          { name: "resourceName", type: "STRING" },
          { name: "metadataJson", type: "STRING" },
          {
            name: "authenticationInfo",
            type: {
              struct: [
                { name: "principalEmail", type: "STRING" },
                { name: "principalSubject", type: "STRING" },
              ],
            },
          },
          {
            name: "servicedata_v1_bigquery",
            type: {
              struct: [
                {
                  name: "jobCompletedEvent",
                  type: {
                    struct: [
                      { name: "eventName", type: "STRING" },
                      { name: "job", type: v1Job },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
  ],
};

const PAYLOAD = "protopayload_auditlog";
const V1_RECORD = "servicedata_v1_bigquery";
const AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog";
const V1_TYPE = "type.googleapis.com/google.cloud.bigquery.logging.v1.AuditData";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The LogEntry of an entry that is one sink row (an object with the protopayload_auditlog
 * record), else undefined: the entry is then of another form, for the parser to judge. `value`
 * is the entry's text already parsed (JSON.parse), so the text is parsed once whatever its form.
 */
export function sinkRowEntry(value: unknown): Json | undefined {
  return isObject(value) && isObject(value[PAYLOAD]) ? logEntryOfRow(value) : undefined;
}

function logEntryOfRow(row: Json): Json {
  const { [PAYLOAD]: payload, ...entry } = typed(row, SINK_TABLE.columns);
  const { [V1_RECORD]: serviceData, ...audit } = payload as Json;
  const protoPayload: Json = { "@type": AUDIT_LOG_TYPE, ...audit };
  if (isObject(serviceData)) protoPayload.serviceData = { "@type": V1_TYPE, ...serviceData };
  return { ...entry, protoPayload };
}

/** A record's fields as the LogEntry has them: NULL left out (proto3 JSON omits unset fields), typed leaves as JSON. */
function typed(record: Json, columns: Column[] | undefined): Json {
  const result: Json = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    result[name] = typedValue(value, columns?.find((column) => column.name === name)?.type);
  }
  return result;
}

function typedValue(value: unknown, type: ColumnType | undefined): unknown {
  if (Array.isArray(value)) {
    const element = typeof type === "object" && "array" in type ? type.array : undefined;
    return value.filter((item) => item !== null).map((item) => typedValue(item, element));
  }
  if (isObject(value))
    return typed(value, typeof type === "object" && "struct" in type ? type.struct : undefined);
  if (type === "TIMESTAMP") return rfc3339FromBq(value) ?? value;
  if (type === "BOOL" && (value === "true" || value === "false")) return value === "true";
  // INT64 stays as written: a string of digits is how a LogEntry spells an int64 too.
  return value;
}

/**
 * A parser's rejection of a converted row, told in the row's own terms: the column path instead
 * of the LogEntry's, and the TIMESTAMP forms bq writes instead of RFC 3339 alone.
 */
export function sinkRowDetail(detail: string, row?: number): string {
  const inMetadata = detail.startsWith("protoPayload.metadata.");
  let columns = detail
    .replace(/^protoPayload\.metadata\./, `${PAYLOAD}.metadataJson: $.`)
    .replace(/^protoPayload\.serviceData\./, `${PAYLOAD}.${V1_RECORD}.`)
    .replace(/^protoPayload\./, `${PAYLOAD}.`);
  // The metadata is JSON text, its times RFC 3339 as in any LogEntry; the columns are TIMESTAMPs.
  if (!inMetadata)
    columns = columns.replace(
      "expected an RFC 3339 timestamp",
      'expected a TIMESTAMP ("2026-10-01 12:00:00[.ffffff] UTC", RFC 3339 or epoch seconds)',
    );
  return row === undefined ? `sink row: ${columns}` : `sink row ${row}: ${columns}`;
}
