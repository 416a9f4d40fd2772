// LogEntries as a Log Router sink writes them to BigQuery (cloudaudit_googleapis_com_data_access):
// LogEntry fields keep their names, protoPayload becomes protopayload_auditlog, the v2 metadata
// is JSON text in metadataJson and the v1 serviceData the typed record servicedata_v1_bigquery
// (int64 as INT64, times as TIMESTAMP, absent records NULL). Source: shared/reference/
// audit-log-formats.md §5.2 (Google's migration guide and bigquery-utils views read these
// columns). The schema is the subset of the export's columns that sql/ reads.
import type { SqlType, SqlValue, TableSchema } from "./zetasql.ts";

const tableRef: SqlType = {
  struct: [
    { name: "projectId", type: "STRING" },
    { name: "datasetId", type: "STRING" },
    { name: "tableId", type: "STRING" },
  ],
};

const v1Job: SqlType = {
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
        ],
      },
    },
  ],
};

export const SINK_TABLE: TableSchema = {
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

type Json = Record<string, any>;

const int = (value: unknown) => (value === undefined || value === null ? null : BigInt(value as string));
const present = (value: unknown) => value !== undefined && value !== null;

function v1JobRecord(job: Json): Record<string, SqlValue> {
  const config = job.jobConfiguration ?? {};
  const stats = job.jobStatistics ?? {};
  return {
    jobName: job.jobName
      ? {
          projectId: job.jobName.projectId ?? null,
          jobId: job.jobName.jobId ?? null,
          location: job.jobName.location ?? null,
        }
      : null,
    jobConfiguration: {
      query: present(config.query)
        ? { query: config.query.query ?? null, statementType: config.query.statementType ?? null }
        : null,
      load: present(config.load) ? { sourceUris: config.load.sourceUris ?? [] } : null,
      extract: present(config.extract) ? { destinationUris: config.extract.destinationUris ?? [] } : null,
      tableCopy: present(config.tableCopy)
        ? { destinationTable: config.tableCopy.destinationTable ?? null }
        : null,
      dryRun: config.dryRun ?? null,
    },
    jobStatus: {
      state: job.jobStatus?.state ?? null,
      error: { code: job.jobStatus?.error?.code ?? null, message: job.jobStatus?.error?.message ?? null },
    },
    jobStatistics: {
      createTime: stats.createTime ?? null,
      startTime: stats.startTime ?? null,
      endTime: stats.endTime ?? null,
      totalProcessedBytes: int(stats.totalProcessedBytes),
      totalBilledBytes: int(stats.totalBilledBytes),
      totalSlotMs: int(stats.totalSlotMs),
      reservation: stats.reservation ?? null,
      reservationUsage: (stats.reservationUsage ?? []).map((usage: Json) => ({
        name: usage.name ?? null,
        slotMs: int(usage.slotMs),
      })),
      referencedTables: stats.referencedTables ?? [],
    },
  };
}

/** One LogEntry (JSON form) as a row of the sink's table. */
export function sinkRow(entry: Json): Record<string, SqlValue> {
  const payload = entry.protoPayload ?? {};
  const completed = payload.serviceData?.jobCompletedEvent;
  return {
    timestamp: entry.timestamp,
    receiveTimestamp: entry.receiveTimestamp ?? entry.timestamp,
    logName: entry.logName ?? null,
    insertId: entry.insertId ?? null,
    resource: {
      type: entry.resource?.type ?? null,
      labels: {
        project_id: entry.resource?.labels?.project_id ?? null,
        location: entry.resource?.labels?.location ?? null,
        dataset_id: entry.resource?.labels?.dataset_id ?? null,
      },
    },
    protopayload_auditlog: {
      serviceName: payload.serviceName ?? null,
      methodName: payload.methodName ?? null,
      resourceName: payload.resourceName ?? null,
      metadataJson: payload.metadata ? JSON.stringify(payload.metadata) : null,
      authenticationInfo: {
        principalEmail: payload.authenticationInfo?.principalEmail ?? null,
        principalSubject: payload.authenticationInfo?.principalSubject ?? null,
      },
      servicedata_v1_bigquery: payload.serviceData
        ? {
            jobCompletedEvent: completed
              ? {
                  eventName: completed.eventName ?? null,
                  job: completed.job ? v1JobRecord(completed.job) : null,
                }
              : null,
          }
        : null,
    },
  };
}
