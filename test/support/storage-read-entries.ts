// Storage Read API audit entries as Google documents them, built from the real tableDataRead
// capture (test/fixtures/entries/v2-tableDataRead-list.datahub.json) moved to our data project
// acme-fin-lake: methodName google.cloud.bigquery.storage.v1.BigQueryRead.ReadRows /
// CreateReadSession; tableDataRead reason READ_ROWS with readStream, offset, rowCount,
// serializedResponseBytes and scannedBytes (int64 strings), or CREATE_READ_SESSION with
// sessionName `projects/P/locations/L/sessions/S` (BigQueryAuditMetadata.TableDataRead,
// cloud.google.com/bigquery/docs/reference/auditlogs/rest/Shared.Types/BigQueryAuditMetadata;
// "Monitor Storage Read API use", cloud.google.com/bigquery/docs/reference/storage). No raw
// ReadRows capture is public.
import { readFileSync } from "node:fs";

const TIB = 2n ** 40n;
const read = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8");

export function storageEntry(options: {
  timestamp?: string;
  principal: string;
  sessionProject: string;
  reason?: "READ_ROWS" | "CREATE_READ_SESSION";
  scannedBytes?: bigint;
  insertId?: string;
  location?: string;
  /** The session's id (several sessions in one test). */
  session?: string;
}) {
  const log = JSON.parse(read("entries/v2-tableDataRead-list.datahub.json"));
  const table = "projects/acme-fin-lake/datasets/ledger/tables/entries";
  log.logName = "projects/acme-fin-lake/logs/cloudaudit.googleapis.com%2Fdata_access";
  log.insertId = options.insertId ?? "sr-1";
  log.timestamp = options.timestamp ?? "2026-10-14T17:02:20.091854Z";
  log.resource.labels = { project_id: "acme-fin-lake", dataset_id: "ledger" };
  const payload = log.protoPayload;
  payload.authenticationInfo.principalEmail = options.principal;
  payload.resourceName = table;
  payload.authorizationInfo[0].resource = table;
  const session = `projects/${options.sessionProject}/locations/${options.location ?? "us"}/sessions/${options.session ?? "CAISDHRhYmxlX3JlYWQ"}`;
  if ((options.reason ?? "READ_ROWS") === "READ_ROWS") {
    payload.methodName = "google.cloud.bigquery.storage.v1.BigQueryRead.ReadRows";
    payload.metadata.tableDataRead = {
      reason: "READ_ROWS",
      fields: ["entry_id", "amount"],
      readStream: `${session}/streams/GgJpYxoCaWQ`,
      offset: "0",
      rowCount: "120000",
      serializedResponseBytes: "9437184",
      scannedBytes: String(options.scannedBytes ?? 2n * TIB),
    };
  } else {
    payload.methodName = "google.cloud.bigquery.storage.v1.BigQueryRead.CreateReadSession";
    payload.metadata.tableDataRead = {
      reason: "CREATE_READ_SESSION",
      fields: ["entry_id"],
      sessionName: session,
    };
  }
  return log;
}
