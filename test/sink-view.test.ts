// The view over a raw Log Router sink table extracts the same jobs as the TypeScript parser from
// the same entries, once each. The sink table's schema below is the subset of Google's export
// schema the view reads (shared/reference/audit-log-formats.md §5.2: protopayload_auditlog with
// metadataJson for v2 and the typed servicedata_v1_bigquery record for v1).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEntry } from "../src/core/parse.ts";
import type { JobEvent } from "../src/core/types.ts";
import { type SqlType, type SqlValue, type TableSchema, ZetaSql } from "./support/zetasql.ts";

const VIEW = readFileSync(new URL("../sql/views/jobs_from_log_sink.sql", import.meta.url), "utf8");
const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8"));

const tableRef: SqlType = {
  struct: [
    { name: "projectId", type: "STRING" },
    { name: "datasetId", type: "STRING" },
    { name: "tableId", type: "STRING" },
  ],
};
const SINK: TableSchema = {
  name: "cloudaudit_googleapis_com_data_access",
  columns: [
    { name: "timestamp", type: "TIMESTAMP" },
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
                      {
                        name: "job",
                        type: {
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
                                    type: { struct: [{ name: "statementType", type: "STRING" }] },
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
                                  { name: "endTime", type: "TIMESTAMP" },
                                  { name: "totalProcessedBytes", type: "INT64" },
                                  { name: "totalBilledBytes", type: "INT64" },
                                  { name: "totalSlotMs", type: "INT64" },
                                  { name: "reservation", type: "STRING" },
                                  { name: "referencedTables", type: { array: tableRef } },
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
            },
          },
        ],
      },
    },
  ],
};

/** A LogEntry as the BigQuery sink stores it: v2 metadata as JSON text, v1 service data typed. */
function sinkRow(entry: Record<string, any>): Record<string, SqlValue> {
  const payload = entry.protoPayload;
  const job = payload.serviceData?.jobCompletedEvent?.job;
  const int = (value: string | undefined) => (value === undefined ? null : BigInt(value));
  return {
    timestamp: entry.timestamp,
    logName: entry.logName,
    insertId: entry.insertId,
    resource: {
      type: entry.resource.type,
      labels: {
        project_id: entry.resource.labels.project_id,
        location: entry.resource.labels.location ?? null,
        dataset_id: null,
      },
    },
    protopayload_auditlog: {
      serviceName: payload.serviceName,
      methodName: payload.methodName,
      resourceName: payload.resourceName,
      metadataJson: payload.metadata ? JSON.stringify(payload.metadata) : null,
      authenticationInfo: {
        principalEmail: payload.authenticationInfo?.principalEmail ?? null,
        principalSubject: null,
      },
      servicedata_v1_bigquery: job
        ? {
            jobCompletedEvent: {
              eventName: payload.serviceData.jobCompletedEvent.eventName,
              job: {
                jobName: job.jobName,
                jobConfiguration: {
                  query: { statementType: job.jobConfiguration.query?.statementType ?? null },
                },
                jobStatus: {
                  state: job.jobStatus.state,
                  error: {
                    code: job.jobStatus.error?.code ?? null,
                    message: job.jobStatus.error?.message ?? null,
                  },
                },
                jobStatistics: {
                  endTime: job.jobStatistics.endTime,
                  totalProcessedBytes: int(job.jobStatistics.totalProcessedBytes),
                  totalBilledBytes: int(job.jobStatistics.totalBilledBytes),
                  totalSlotMs: int(job.jobStatistics.totalSlotMs),
                  reservation: job.jobStatistics.reservation ?? null,
                  referencedTables: job.jobStatistics.referencedTables ?? [],
                },
              },
            },
          }
        : null,
    },
  };
}

let zetasql: ZetaSql;
beforeAll(async () => {
  zetasql = await ZetaSql.start();
}, 60_000);
afterAll(() => zetasql?.stop());

describe("the view over a raw Log Router sink table", () => {
  it("analyses in BigQuery's dialect", async () => {
    await expect(zetasql.analyze(VIEW, [SINK])).resolves.toBeUndefined();
  });

  it("extracts the jobs the parser extracts, once each, both formats", async () => {
    const v2 = fixture("functions/v2-jobchange-done.json");
    const v1 = fixture("entries/v1-jobcompleted.google-cloudevents.json");
    const running = structuredClone(v2);
    running.protoPayload.metadata.jobChange.after = "RUNNING";
    running.protoPayload.metadata.jobChange.job.jobName = "projects/acme-fin-bi/jobs/still_running";
    const duplicate = { ...structuredClone(v2), insertId: "again", timestamp: "2026-10-14T17:05:00Z" };
    const query = VIEW.replace(/^[\s\S]*?CREATE VIEW IF NOT EXISTS jobs_from_log_sink AS\n/, "");
    const rows = await zetasql.evaluate(query, [SINK], {
      [SINK.name]: [v2, v1, running, duplicate].map(sinkRow),
    });
    const parsed = [v2, v1].map((entry) => parseEntry(entry, "", { file: "f", line: 1 }) as JobEvent);
    expect(rows.map((row) => row.job_id).sort()).toEqual(parsed.map((job) => job.jobId).sort());
    for (const job of parsed) {
      const row = rows.find((r) => r.job_id === job.jobId);
      expect(row).toMatchObject({
        billing_project: job.billingProject,
        location: job.location,
        principal: job.principal,
        statement_type: job.statementType,
        billed_bytes: job.billedBytes,
        slot_ms: job.slotMs,
        cache_hit: job.cacheHit,
        audit_format: job.format,
        end_time: new Date(job.endTimeMs).toISOString(),
        data_projects: [...new Set(job.referencedTables.map((t) => t.split("/")[1]))].sort(),
      });
    }
  });
});
