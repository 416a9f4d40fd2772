-- One row per completed job straight from a Log Router sink's BigQuery table
-- (cloudaudit_googleapis_com_data_access, partitioned form), for backfills and SQL-only users.
-- v2: protopayload_auditlog.metadataJson holds BigQueryAuditMetadata as JSON text, location from
-- resource.labels.location; v1: protopayload_auditlog.servicedata_v1_bigquery is a typed record.
-- Facts only (no departments or prices: those need the registry; see src/ and docs/tables.md).
CREATE VIEW IF NOT EXISTS jobs_from_log_sink AS
WITH v2 AS (
  SELECT
    SPLIT(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobName'), '/')[SAFE_OFFSET(1)] AS billing_project,
    SPLIT(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobName'), '/')[SAFE_OFFSET(3)] AS job_name,
    COALESCE(resource.labels.location, '') AS location,
    COALESCE(protopayload_auditlog.authenticationInfo.principalEmail, protopayload_auditlog.authenticationInfo.principalSubject, '') AS principal,
    COALESCE(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobConfig.type'), '') AS job_type,
    COALESCE(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobConfig.queryConfig.statementType'), '') AS statement_type,
    COALESCE(SAFE_CAST(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.queryStats.totalBilledBytes') AS INT64), 0) AS billed_bytes,
    COALESCE(SAFE_CAST(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.totalSlotMs') AS INT64), 0) AS slot_ms,
    COALESCE(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.reservation'), '') AS reservation,
    COALESCE(SAFE_CAST(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.queryStats.cacheHit') AS BOOL), FALSE) AS cache_hit,
    SAFE_CAST(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStatus.errorResult.code') AS INT64) AS error_code,
    SPLIT(JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.parentJobName'), '/')[SAFE_OFFSET(3)] AS parent_job_name,
    SAFE.PARSE_TIMESTAMP('%Y-%m-%dT%H:%M:%E*SZ', JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.endTime')) AS end_time,
    ARRAY(
      SELECT DISTINCT SPLIT(referenced, '/')[SAFE_OFFSET(1)]
      FROM UNNEST(JSON_VALUE_ARRAY(protopayload_auditlog.metadataJson, '$.jobChange.job.jobStats.queryStats.referencedTables')) AS referenced
      ORDER BY 1
    ) AS data_projects,
    'v2' AS audit_format,
    timestamp AS log_time
  FROM cloudaudit_googleapis_com_data_access
  WHERE JSON_VALUE(protopayload_auditlog.metadataJson, '$.jobChange.after') = 'DONE'
),
-- v1 is read through JSON, never by column: a sink table has the columns of the entries it has
-- received, so one that only ever got v2 entries has no servicedata_v1_bigquery at all, and one
-- whose v1 entries never carried a field (reservation) has no column for it. Either way the view
-- must still be valid.
v1_jobs AS (
  SELECT
    JSON_QUERY(TO_JSON_STRING(protopayload_auditlog), '$.servicedata_v1_bigquery.jobCompletedEvent.job') AS job,
    protopayload_auditlog.authenticationInfo AS auth,
    timestamp
  FROM cloudaudit_googleapis_com_data_access
  WHERE protopayload_auditlog.methodName = 'jobservice.jobcompleted'
),
v1 AS (
  SELECT
    JSON_VALUE(job, '$.jobName.projectId') AS billing_project,
    JSON_VALUE(job, '$.jobName.jobId') AS job_name,
    COALESCE(JSON_VALUE(job, '$.jobName.location'), '') AS location,
    COALESCE(auth.principalEmail, auth.principalSubject, '') AS principal,
    '' AS job_type,
    COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.statementType'), '') AS statement_type,
    COALESCE(SAFE_CAST(JSON_VALUE(job, '$.jobStatistics.totalBilledBytes') AS INT64), 0) AS billed_bytes,
    COALESCE(SAFE_CAST(JSON_VALUE(job, '$.jobStatistics.totalSlotMs') AS INT64), 0) AS slot_ms,
    -- reservation, or for older entries the one name their reservationUsage[] gives, else ''
    -- (src/core/parse.ts reservationOf: several names are split or refused by pricing, never guessed)
    COALESCE(
      NULLIF(JSON_VALUE(job, '$.jobStatistics.reservation'), ''),
      (
        SELECT IF(COUNT(DISTINCT JSON_VALUE(usage, '$.name')) = 1, MAX(JSON_VALUE(usage, '$.name')), NULL)
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStatistics.reservationUsage')) AS usage
        WHERE JSON_VALUE(usage, '$.name') != ''
      ),
      ''
    ) AS reservation,
    -- v1 has no cacheHit: Google's own v1 view calls a query without bytes, slot-ms or error cached
    (
      COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.statementType'), '') IN ('SELECT', '')
      AND JSON_VALUE(job, '$.jobStatistics.totalProcessedBytes') IS NULL
      AND JSON_VALUE(job, '$.jobStatistics.totalSlotMs') IS NULL
      AND JSON_VALUE(job, '$.jobStatus.error.code') IS NULL
    ) AS cache_hit,
    SAFE_CAST(JSON_VALUE(job, '$.jobStatus.error.code') AS INT64) AS error_code,
    CAST(NULL AS STRING) AS parent_job_name,
    SAFE_CAST(JSON_VALUE(job, '$.jobStatistics.endTime') AS TIMESTAMP) AS end_time,
    ARRAY(
      SELECT DISTINCT JSON_VALUE(referenced, '$.projectId')
      FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStatistics.referencedTables')) AS referenced
      ORDER BY 1
    ) AS data_projects,
    'v1' AS audit_format,
    timestamp AS log_time
  FROM v1_jobs
),
jobs AS (
  SELECT
    CONCAT(billing_project, ':', IF(location = '', '', CONCAT(location, '.')), job_name) AS job_id,
    *
  FROM (SELECT * FROM v2 UNION ALL SELECT * FROM v1)
  WHERE billing_project IS NOT NULL AND job_name IS NOT NULL AND end_time IS NOT NULL
)
-- A job arrives more than once (both formats, redelivery): keep one row, the v2 one first.
SELECT * EXCEPT (log_time)
FROM jobs
QUALIFY ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY audit_format DESC, log_time) = 1
