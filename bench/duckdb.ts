// DuckDB on the same file and the same totals: read_ndjson_objects + JSON extraction + GROUP BY,
// each job once (DISTINCT ON), script parents left out, exact HUGEINT sums.
import { DuckDBInstance } from "@duckdb/node-api";

const file = process.argv[2] as string;
const instance = await DuckDBInstance.create(":memory:", { threads: process.env.DUCKDB_THREADS ?? "2" });
const connection = await instance.connect();
const sql = `
WITH entries AS (
  SELECT json FROM read_ndjson_objects(?, ignore_errors = true)
), jobs AS (
  SELECT
    COALESCE(json_extract_string(json, '$.protoPayload.metadata.jobChange.job.jobName'),
             'projects/' || json_extract_string(json, '$.protoPayload.serviceData.jobCompletedEvent.job.jobName.projectId')
             || '/jobs/' || json_extract_string(json, '$.protoPayload.serviceData.jobCompletedEvent.job.jobName.jobId')) AS job_name,
    COALESCE(json_extract_string(json, '$.resource.labels.location'),
             json_extract_string(json, '$.protoPayload.serviceData.jobCompletedEvent.job.jobName.location'), '') AS location,
    COALESCE(json_extract_string(json, '$.protoPayload.metadata.jobChange.job.jobStats.queryStats.totalBilledBytes'),
             json_extract_string(json, '$.protoPayload.serviceData.jobCompletedEvent.job.jobStatistics.totalBilledBytes')) AS billed,
    COALESCE(json_extract_string(json, '$.protoPayload.metadata.jobChange.job.jobConfig.queryConfig.statementType'),
             json_extract_string(json, '$.protoPayload.serviceData.jobCompletedEvent.job.jobConfiguration.query.statementType')) AS statement_type
  FROM entries
  WHERE json_extract_string(json, '$.protoPayload.metadata.jobChange.after') = 'DONE'
     OR json_extract_string(json, '$.protoPayload.methodName') = 'jobservice.jobcompleted'
), distinct_jobs AS (
  SELECT DISTINCT ON (split_part(job_name, '/', 2), location, split_part(job_name, '/', 4)) *
  FROM jobs WHERE regexp_full_match(COALESCE(billed, 'x'), '[0-9]+')
)
SELECT split_part(job_name, '/', 2) AS project, SUM(CAST(billed AS HUGEINT))::VARCHAR AS billed
FROM distinct_jobs WHERE COALESCE(statement_type, '') <> 'SCRIPT'
GROUP BY 1 ORDER BY 1`;
const prepared = await connection.prepare(sql);
prepared.bindVarchar(1, file);
const reader = await prepared.runAndReadAll();
const totals: Record<string, string> = {};
for (const [project, billed] of reader.getRows()) totals[String(project)] = String(billed);
console.log(JSON.stringify({ totals }));
