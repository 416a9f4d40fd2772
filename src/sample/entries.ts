// LogEntry builders shaped as Google emits BigQuery audit entries (field paths in
// docs/audit-log-fields.md): v2 jobInsertion / jobChange in the billing project's data_access
// log (resource bigquery_project with its location), v2 tableDataRead in the data project's log
// (resource bigquery_dataset), v1 jobservice.jobcompleted (resource bigquery_resource).
// int64 values are JSON strings; absent statistics are omitted, as proto3 JSON does.

export interface SampleJob {
  project: string;
  jobId: string;
  location: string;
  principal: string;
  statementType: string;
  jobType: "QUERY" | "IMPORT" | "EXPORT" | "COPY";
  query: string;
  createMs: number;
  endMs: number;
  processedBytes: bigint;
  billedBytes: bigint;
  slotMs: bigint;
  referencedTables: string[];
  reservation: string;
  cacheHit: boolean;
  error?: { code: number; message: string };
  parentJobName?: string;
  insertId: string;
}

const MIB = 2n ** 20n;

/** BigQuery's on-demand rounding: up to the MiB, at least 10 MiB (queries that read nothing bill 0). */
export function billedFor(processed: bigint): bigint {
  if (processed === 0n) return 0n;
  const rounded = ((processed + MIB - 1n) / MIB) * MIB;
  return rounded < 10n * MIB ? 10n * MIB : rounded;
}

/** RFC 3339 with 3, 6 or 0 fraction digits, as Google's entries vary. */
export function rfc3339(ms: number, digits: 0 | 3 | 6 = 3): string {
  const iso = new Date(ms).toISOString();
  if (digits === 3) return iso;
  if (digits === 0) return `${iso.slice(0, 19)}Z`;
  return `${iso.slice(0, 23)}${String(Math.floor(ms * 7) % 1000).padStart(3, "0")}Z`;
}

const logName = (project: string) => `projects/${project}/logs/cloudaudit.googleapis.com%2Fdata_access`;

function requestMetadata(principal: string) {
  return {
    callerIp: principal.endsWith("gserviceaccount.com") ? "private" : "203.0.113.24",
    callerSuppliedUserAgent: "google-cloud-sdk gcloud/530.0.0 command/bq.query,gzip(gfe)",
  };
}

function v2Job(job: SampleJob, state: "RUNNING" | "DONE") {
  const stats: Record<string, unknown> = { createTime: rfc3339(job.createMs) };
  if (state === "DONE") {
    stats.startTime = rfc3339(job.createMs + 180);
    stats.endTime = rfc3339(job.endMs, (Number(job.endMs % 3) * 3) as 0 | 3 | 6);
    if (job.slotMs > 0n) stats.totalSlotMs = job.slotMs.toString();
    stats.reservation = job.reservation;
    if (job.parentJobName) stats.parentJobName = job.parentJobName;
    if (job.jobType === "QUERY") {
      const queryStats: Record<string, unknown> = {};
      if (job.cacheHit) queryStats.cacheHit = true;
      else if (job.statementType !== "SCRIPT" || job.processedBytes > 0n) {
        queryStats.totalProcessedBytes = job.processedBytes.toString();
        queryStats.totalBilledBytes = job.billedBytes.toString();
        queryStats.billingTier = 1;
        if (job.referencedTables.length > 0) queryStats.referencedTables = job.referencedTables;
        queryStats.outputRowCount = String(Number(job.processedBytes % 9973n));
      }
      stats.queryStats = queryStats;
    }
  }
  const config: Record<string, unknown> = { type: job.jobType };
  if (job.jobType === "QUERY") {
    config.queryConfig = {
      query: job.query,
      destinationTable: `projects/${job.project}/datasets/_${job.jobId.slice(-8)}/tables/anon${job.jobId.slice(-6)}`,
      createDisposition: "CREATE_IF_NEEDED",
      writeDisposition: "WRITE_TRUNCATE",
      priority: "QUERY_INTERACTIVE",
      statementType: job.statementType,
    };
  }
  const status: Record<string, unknown> = { jobState: state };
  if (state === "DONE" && job.error) status.errorResult = job.error;
  return {
    jobName: `projects/${job.project}/jobs/${job.jobId}`,
    jobConfig: config,
    jobStatus: status,
    jobStats: stats,
  };
}

function envelope(
  job: SampleJob,
  metadata: Record<string, unknown>,
  first: boolean,
  timestampMs: number,
  insertId: string,
) {
  const failed = !first && job.error !== undefined;
  const payload: Record<string, unknown> = {
    "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
    status: failed ? { code: job.error?.code, message: job.error?.message } : {},
    authenticationInfo: { principalEmail: job.principal },
    requestMetadata: requestMetadata(job.principal),
    serviceName: "bigquery.googleapis.com",
    methodName: "google.cloud.bigquery.v2.JobService.InsertJob",
    resourceName: `projects/${job.project}/jobs/${job.jobId}`,
    metadata,
  };
  return {
    protoPayload: payload,
    insertId,
    resource: { type: "bigquery_project", labels: { project_id: job.project, location: job.location } },
    timestamp: rfc3339(timestampMs, 6),
    severity: failed ? "ERROR" : "INFO",
    logName: logName(job.project),
    operation: {
      id: `${job.createMs}-${job.project}:${job.jobId}`,
      producer: "bigquery.googleapis.com",
      ...(first ? { first: true } : { last: true }),
    },
    receiveTimestamp: rfc3339(timestampMs + 412, 6),
  };
}

export function v2Insertion(job: SampleJob): Record<string, unknown> {
  return envelope(
    job,
    {
      "@type": "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
      jobInsertion: { job: v2Job(job, "RUNNING"), reason: "JOB_INSERT_REQUEST" },
    },
    true,
    job.createMs + 90,
    `${job.insertId}i`,
  );
}

export function v2Change(job: SampleJob): Record<string, unknown> {
  // Key order as seen in real entries: the event before "@type".
  return envelope(
    job,
    {
      jobChange: { before: "RUNNING", after: "DONE", job: v2Job(job, "DONE") },
      "@type": "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
    },
    false,
    job.endMs + 240,
    `${job.insertId}c`,
  );
}

function tableRef(table: string) {
  const [, projectId, , datasetId, , tableId] = table.split("/");
  return { projectId, datasetId, tableId };
}

const V1_EVENT: Record<SampleJob["jobType"], string> = {
  QUERY: "query_job_completed",
  IMPORT: "load_job_completed",
  EXPORT: "extract_job_completed",
  COPY: "table_copy_job_completed",
};

export function v1Completed(job: SampleJob): Record<string, unknown> {
  const statistics: Record<string, unknown> = {
    createTime: rfc3339(job.createMs),
    startTime: rfc3339(job.createMs + 180),
    endTime: rfc3339(job.endMs),
  };
  if (!job.cacheHit && job.jobType === "QUERY") {
    statistics.totalProcessedBytes = job.processedBytes.toString();
    statistics.totalBilledBytes = job.billedBytes.toString();
    statistics.billingTier = 1;
    if (job.slotMs > 0n) statistics.totalSlotMs = job.slotMs.toString();
    if (job.referencedTables.length > 0) statistics.referencedTables = job.referencedTables.map(tableRef);
    statistics.totalTablesProcessed = job.referencedTables.length;
  }
  statistics.reservation = job.reservation;
  const configuration: Record<string, unknown> =
    job.jobType === "QUERY"
      ? {
          query: {
            query: job.query,
            destinationTable: {
              projectId: job.project,
              datasetId: `_${job.jobId.slice(-8)}`,
              tableId: `anon${job.jobId.slice(-6)}`,
            },
            createDisposition: "CREATE_IF_NEEDED",
            writeDisposition: "WRITE_TRUNCATE",
            defaultDataset: {},
            queryPriority: "QUERY_INTERACTIVE",
            statementType: job.statementType,
          },
        }
      : {
          load: {
            sourceUris: [`gs://acme-landing/${job.jobId}.avro`],
            destinationTable: tableRef(job.referencedTables[0] ?? "projects/p/datasets/d/tables/t"),
          },
        };
  return {
    insertId: `${job.insertId}v1`,
    logName: logName(job.project),
    protoPayload: {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      authenticationInfo: { principalEmail: job.principal },
      methodName: "jobservice.jobcompleted",
      requestMetadata: {
        ...requestMetadata(job.principal),
        destinationAttributes: {},
        requestAttributes: {},
      },
      resourceName: `projects/${job.project}/jobs/${job.jobId}`,
      serviceData: {
        "@type": "type.googleapis.com/google.cloud.bigquery.logging.v1.AuditData",
        jobCompletedEvent: {
          eventName: V1_EVENT[job.jobType],
          job: {
            jobConfiguration: configuration,
            jobName: { jobId: job.jobId, location: job.location, projectId: job.project },
            jobStatistics: statistics,
            jobStatus: { error: job.error ?? {}, state: "DONE" },
          },
        },
      },
      serviceName: "bigquery.googleapis.com",
      status: job.error ? { code: job.error.code, message: job.error.message } : {},
    },
    receiveTimestamp: rfc3339(job.endMs + 650, 6),
    resource: { labels: { project_id: job.project }, type: "bigquery_resource" },
    severity: job.error ? "ERROR" : "INFO",
    timestamp: rfc3339(job.endMs + 300, 6),
  };
}

/** A tableDataRead in the data project's log. `readerJobName` absent means Google redacted it. */
export function v2TableRead(options: {
  table: string;
  principal: string;
  readerJobName?: string;
  timeMs: number;
  insertId: string;
}): Record<string, unknown> {
  const [, project, , dataset] = options.table.split("/");
  const read: Record<string, unknown> = { reason: "JOB", fields: ["id", "amount", "region"] };
  if (options.readerJobName) read.jobName = options.readerJobName;
  return {
    protoPayload: {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      status: {},
      authenticationInfo: { principalEmail: options.principal },
      requestMetadata: { callerIp: "198.51.100.8", requestAttributes: {}, destinationAttributes: {} },
      serviceName: "bigquery.googleapis.com",
      methodName: "google.cloud.bigquery.v2.JobService.InsertJob",
      authorizationInfo: [
        {
          resource: options.table,
          permission: "bigquery.tables.getData",
          granted: true,
          resourceAttributes: {},
        },
      ],
      resourceName: options.table,
      metadata: {
        tableDataRead: read,
        "@type": "type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata",
      },
    },
    insertId: options.insertId,
    resource: { type: "bigquery_dataset", labels: { project_id: project, dataset_id: dataset } },
    timestamp: rfc3339(options.timeMs, 6),
    severity: "INFO",
    logName: logName(project as string),
    receiveTimestamp: rfc3339(options.timeMs + 380, 6),
  };
}

/** A Compute Engine audit entry that a too-wide export can contain: not BigQuery. */
export function computeEngineEntry(timeMs: number, insertId: string): Record<string, unknown> {
  return {
    protoPayload: {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      serviceName: "compute.googleapis.com",
      methodName: "v1.compute.instances.insert",
      resourceName: "projects/acme-platform/zones/us-central1-a/instances/build-7",
      authenticationInfo: { principalEmail: "ops@acme.example" },
    },
    insertId,
    resource: { type: "gce_instance", labels: { project_id: "acme-platform", zone: "us-central1-a" } },
    timestamp: rfc3339(timeMs, 6),
    severity: "NOTICE",
    logName: "projects/acme-platform/logs/cloudaudit.googleapis.com%2Factivity",
  };
}
