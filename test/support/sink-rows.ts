// LogEntries as a Log Router sink writes them to BigQuery (cloudaudit_googleapis_com_data_access):
// LogEntry fields keep their names, protoPayload becomes protopayload_auditlog, the v2 metadata
// is JSON text in metadataJson and the v1 serviceData the typed record servicedata_v1_bigquery
// (int64 as INT64, times as TIMESTAMP, absent records NULL). Source: shared/reference/
// audit-log-formats.md §5.2 (Google's migration guide and bigquery-utils views read these
// columns). The schema (src/io/sink-rows.ts) is the subset of the export's columns the tool reads.
import { SINK_TABLE as TABLE } from "../../src/io/sink-rows.ts";
import type { SqlValue, TableSchema } from "./zetasql.ts";

// One description of the sink table serves the CLI's reader of exported rows and ZetaSQL.
export const SINK_TABLE: TableSchema = TABLE;

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
      labels: Object.entries(config.labels ?? {}).map(([key, value]) => ({ key, value: value as string })),
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
      referencedViews: stats.referencedViews ?? [],
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
