-- Step 1 of the sink pipeline (sql/sink/README.md): the entries of a Log Router sink's table
-- cloudaudit_googleapis_com_data_access (partitioned by `timestamp`) in this run's window, read
-- as src/core/parse.ts reads a LogEntry: one row per completed job event (v2 jobChange or
-- jobInsertion DONE from the JSON text in protopayload_auditlog.metadataJson, v1 jobcompleted
-- from protopayload_auditlog.servicedata_v1_bigquery, read as JSON), per v2 tableDataRead,
-- and per entry the parser rejects, with the parser's reason and message. Facts only: no
-- registry, no prices. Other entries (jobs not done, other methods) are skipped, as the parser
-- ignores them.
-- Window: the partitions of the 3 days before @run_time's day and that day up to @run_time, so
-- entries that reach the sink late (up to 3 days) are read again; every later step is a MERGE,
-- so reading an entry twice changes nothing.
-- Parameter: @run_time TIMESTAMP (set by the BigQuery Data Transfer Service for scheduled queries).
CREATE TEMP TABLE sink_entries AS
WITH entries AS (
  SELECT
    e.logName AS log_name,
    e.insertId AS insert_id,
    e.timestamp AS log_time,
    e.receiveTimestamp AS receive_time,
    COALESCE(e.resource.labels.location, '') AS resource_location,
    e.resource.labels.project_id AS resource_project,
    e.protopayload_auditlog AS payload,
    e.protopayload_auditlog.metadataJson AS metadata,
    COALESCE(
      NULLIF(e.protopayload_auditlog.authenticationInfo.principalEmail, ''),
      e.protopayload_auditlog.authenticationInfo.principalSubject,
      ''
    ) AS principal,
    TO_JSON_STRING(e) AS raw
  FROM cloudaudit_googleapis_com_data_access AS e
  WHERE e.timestamp >= TIMESTAMP_SUB(TIMESTAMP_TRUNC(@run_time, DAY), INTERVAL 3 DAY)
    AND e.timestamp < @run_time
),
formats AS (
  SELECT
    *,
    CASE
      WHEN
        JSON_VALUE(metadata, '$."@type"') = 'type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata'
        OR JSON_QUERY(metadata, '$.jobChange') IS NOT NULL
        OR JSON_QUERY(metadata, '$.jobInsertion') IS NOT NULL
        OR JSON_QUERY(metadata, '$.tableDataRead') IS NOT NULL
        THEN 'v2'
      WHEN JSON_QUERY(raw, '$.protopayload_auditlog.servicedata_v1_bigquery') IS NOT NULL THEN 'v1'
      WHEN COALESCE(payload.serviceName, '') != 'bigquery.googleapis.com' THEN 'not_bigquery'
    END AS audit_format
  FROM entries
),
v2_events AS (
  SELECT
    *,
    CASE
      WHEN JSON_QUERY(metadata, '$.jobChange') IS NOT NULL THEN 'jobChange'
      WHEN JSON_QUERY(metadata, '$.jobInsertion') IS NOT NULL THEN 'jobInsertion'
    END AS event
  FROM formats
  WHERE audit_format = 'v2'
),
v2_jobs_raw AS (
  SELECT
    *,
    IF(event = 'jobChange', JSON_QUERY(metadata, '$.jobChange.job'), JSON_QUERY(metadata, '$.jobInsertion.job')) AS job
  FROM v2_events
  WHERE event IS NOT NULL
),
v2_fields AS (
  SELECT
    *,
    CONCAT('protoPayload.metadata.', event, '.job') AS base,
    COALESCE(
      IF(event = 'jobChange', JSON_VALUE(metadata, '$.jobChange.after') = 'DONE', FALSE)
        OR JSON_VALUE(job, '$.jobStatus.jobState') = 'DONE',
      FALSE
    ) AS done,
    JSON_QUERY(job, '$.jobName') AS name_raw,
    REGEXP_EXTRACT(IF(STARTS_WITH(JSON_QUERY(job, '$.jobName'), '"'), JSON_VALUE(job, '$.jobName'), ''), r'^projects/([^/]+)/jobs/[^/]+$') AS project,
    REGEXP_EXTRACT(IF(STARTS_WITH(JSON_QUERY(job, '$.jobName'), '"'), JSON_VALUE(job, '$.jobName'), ''), r'^projects/[^/]+/jobs/([^/]+)$') AS job_name,
    JSON_QUERY(job, '$.jobStats.endTime') AS end_raw,
    JSON_QUERY(job, '$.jobStats.createTime') AS create_raw,
    JSON_QUERY(job, '$.jobStats.startTime') AS start_raw,
    JSON_QUERY(job, '$.jobStats.queryStats.totalBilledBytes') AS billed_raw,
    JSON_QUERY(job, '$.jobStats.queryStats.totalProcessedBytes') AS processed_raw,
    JSON_QUERY(job, '$.jobStats.totalSlotMs') AS slot_raw
  FROM v2_jobs_raw
),
v2_checked AS (
  SELECT
    *,
    -- The parser's checks in its order; the first that fails names the field and what was expected.
    (
      SELECT AS STRUCT
        IF(state = 'missing', 'missing_field', 'invalid_field') AS reason,
        CONCAT(base, field, ': ', expected, ', found ', IF(state = 'missing' OR raw IS NULL, 'nothing', IF(LENGTH(raw) > 60, CONCAT(SUBSTR(raw, 1, 57), '...'), raw))) AS detail
      FROM (
        SELECT
          n,
          field,
          raw,
          CASE
            WHEN rule = 'job' THEN IF(job IS NULL, 'missing', 'ok')
            WHEN NOT done THEN 'ok'
            WHEN rule = 'name' THEN IF(project IS NULL, 'missing', 'ok')
            -- int64s are JSON strings of digits (or safe JSON integers); absent is 0.
            WHEN rule = 'int64' THEN CASE
              WHEN raw IS NULL OR raw = 'null' THEN 'ok'
              WHEN NOT REGEXP_CONTAINS(raw, r'^"-?\d{1,19}"$|^-?\d{1,16}$') OR SAFE_CAST(TRIM(raw, '"') AS INT64) IS NULL THEN 'invalid'
              WHEN SAFE_CAST(TRIM(raw, '"') AS INT64) < 0 THEN 'negative'
              ELSE 'ok'
            END
            -- RFC 3339 as the parser accepts it; only endTime is required.
            WHEN raw IS NULL OR raw IN ('null', '""') THEN IF(rule = 'required_time', 'missing', 'ok')
            WHEN REGEXP_CONTAINS(raw, r'^"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})"$') AND SAFE_CAST(TRIM(raw, '"') AS TIMESTAMP) IS NOT NULL THEN 'ok'
            ELSE 'invalid'
          END AS state,
          CASE rule
            WHEN 'job' THEN 'expected the job'
            WHEN 'name' THEN 'expected projects/PROJECT/jobs/JOB'
            WHEN 'int64' THEN 'expected an int64 (a string of digits)'
            ELSE 'expected an RFC 3339 timestamp'
          END AS expected_shape
        FROM UNNEST(ARRAY_CONCAT([
          STRUCT(1 AS n, 'job' AS rule, '' AS field, CAST(NULL AS STRING) AS raw),
          STRUCT(2, 'name', '.jobName', name_raw),
          STRUCT(3, 'required_time', '.jobStats.endTime', end_raw),
          STRUCT(4, 'int64', '.jobStats.queryStats.totalBilledBytes', billed_raw),
          STRUCT(5, 'int64', '.jobStats.queryStats.totalProcessedBytes', processed_raw),
          STRUCT(6, 'int64', '.jobStats.totalSlotMs', slot_raw),
          STRUCT(7, 'time', '.jobStats.createTime', create_raw),
          STRUCT(8, 'time', '.jobStats.startTime', start_raw)
        ], ARRAY(
          -- parse.ts reservationUsageOf: each entry's slotMs is an int64 too
          SELECT AS STRUCT 9 + i AS n, 'int64' AS rule, CONCAT('.jobStats.reservationUsage[', CAST(i AS STRING), '].slotMs') AS field, JSON_QUERY(u, '$.slotMs') AS raw
          FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStats.reservationUsage')) AS u WITH OFFSET AS i
        )))
      ),
      UNNEST([IF(state = 'negative', 'expected a non-negative count', expected_shape)]) AS expected
      WHERE state != 'ok'
      ORDER BY n
      LIMIT 1
    ) AS rejection
  FROM v2_fields
),
v2_jobs AS (
  SELECT
    'job' AS entry_kind,
    log_name,
    insert_id,
    log_time,
    receive_time,
    'v2' AS audit_format,
    project AS billing_project,
    job_name,
    resource_location AS location,
    principal,
    COALESCE(JSON_VALUE(job, '$.jobConfig.type'), '') AS job_type,
    COALESCE(JSON_VALUE(job, '$.jobConfig.queryConfig.statementType'), '') AS statement_type,
    COALESCE(CAST(TRIM(billed_raw, '"') AS INT64), 0) AS billed_bytes,
    billed_raw IS NOT NULL AS billed_bytes_present,
    COALESCE(CAST(TRIM(processed_raw, '"') AS INT64), 0) AS processed_bytes,
    COALESCE(CAST(TRIM(slot_raw, '"') AS INT64), 0) AS slot_ms,
    -- parse.ts reservationOf: as logged, else the one name reservationUsage gives
    COALESCE(
      NULLIF(JSON_VALUE(job, '$.jobStats.reservation'), ''),
      (SELECT IF(COUNT(DISTINCT u.name) = 1, MAX(u.name), NULL) FROM UNNEST(reservation_usage) AS u WHERE u.name != ''),
      ''
    ) AS reservation,
    reservation_usage,
    COALESCE(JSON_VALUE(job, '$.jobStats.queryStats.cacheHit') = 'true', FALSE) AS cache_hit,
    FALSE AS dry_run,
    IF(JSON_QUERY(job, '$.jobStatus.errorResult') IS NOT NULL, COALESCE(SAFE_CAST(JSON_VALUE(job, '$.jobStatus.errorResult.code') AS INT64), 0), NULL) AS error_code,
    IF(JSON_QUERY(job, '$.jobStatus.errorResult') IS NOT NULL, COALESCE(JSON_VALUE(job, '$.jobStatus.errorResult.message'), ''), NULL) AS error_message,
    -- parse.ts modelTypeOf: a CREATE_MODEL's one OPTIONS(model_type=...) in a whole text, else ''
    IF(
      COALESCE(JSON_VALUE(job, '$.jobConfig.queryConfig.statementType'), '') = 'CREATE_MODEL'
        AND COALESCE(JSON_VALUE(job, '$.jobConfig.queryConfig.queryTruncated'), '') != 'true',
      (
        SELECT IF(COUNT(DISTINCT UPPER(t)) = 1, MAX(UPPER(t)), '')
        FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_VALUE(job, '$.jobConfig.queryConfig.query'), ''), r"""(?i)\bmodel_type\s*=\s*['"]([A-Za-z_]+)['"]""")) AS t
      ),
      ''
    ) AS model_type,
    ARRAY(
      SELECT DISTINCT REGEXP_REPLACE(referenced, r'[$@].*$', '')
      FROM UNNEST(JSON_VALUE_ARRAY(job, '$.jobStats.queryStats.referencedTables')) AS referenced
    ) AS referenced_tables,
    ARRAY(
      SELECT DISTINCT REGEXP_REPLACE(referenced, r'[$@].*$', '')
      FROM UNNEST(JSON_VALUE_ARRAY(job, '$.jobStats.queryStats.referencedViews')) AS referenced
    ) AS referenced_views,
    IF(
      REGEXP_CONTAINS(COALESCE(JSON_VALUE(job, '$.jobStats.parentJobName'), ''), r'^projects/[^/]+/jobs/[^/]+$'),
      CONCAT(
        REGEXP_EXTRACT(JSON_VALUE(job, '$.jobStats.parentJobName'), r'^projects/([^/]+)/'),
        ':',
        IF(resource_location = '', '', CONCAT(resource_location, '.')),
        REGEXP_EXTRACT(JSON_VALUE(job, '$.jobStats.parentJobName'), r'/jobs/([^/]+)$')
      ),
      NULL
    ) AS parent_job_id,
    CAST(TRIM(end_raw, '"') AS TIMESTAMP) AS end_time,
    -- the job's labels, a JSON object of strings (BigQueryAuditMetadata.JobConfig.labels)
    JSON_QUERY(job, '$.jobConfig.labels') AS labels_json
  FROM (
    SELECT
      *,
      ARRAY(
        SELECT AS STRUCT COALESCE(JSON_VALUE(u, '$.name'), '') AS name, COALESCE(CAST(TRIM(JSON_QUERY(u, '$.slotMs'), '"') AS INT64), 0) AS slot_ms
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStats.reservationUsage')) AS u WITH OFFSET AS i
        ORDER BY i
      ) AS reservation_usage
    FROM v2_checked
    WHERE done AND rejection IS NULL
  )
),
-- v1 is read through JSON, never by column: a sink table has the columns of the entries it has
-- received, so one that only ever got v2 entries has no servicedata_v1_bigquery at all, and one
-- whose v1 entries never carried a field (an extract job's configuration, dryRun, a reservation,
-- labels, referencedViews) has no column for it. Either way the script must still run.
v1_jobs AS (
  SELECT
    'job' AS entry_kind,
    log_name,
    insert_id,
    log_time,
    receive_time,
    raw,
    'v1' AS audit_format,
    JSON_VALUE(job, '$.jobName.projectId') AS billing_project,
    JSON_VALUE(job, '$.jobName.jobId') AS job_name,
    COALESCE(JSON_VALUE(job, '$.jobName.location'), '') AS location,
    principal,
    job_type,
    COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.statementType'), '') AS statement_type,
    COALESCE(CAST(JSON_VALUE(job, '$.jobStatistics.totalBilledBytes') AS INT64), 0) AS billed_bytes,
    JSON_VALUE(job, '$.jobStatistics.totalBilledBytes') IS NOT NULL AS billed_bytes_present,
    COALESCE(CAST(JSON_VALUE(job, '$.jobStatistics.totalProcessedBytes') AS INT64), 0) AS processed_bytes,
    COALESCE(CAST(JSON_VALUE(job, '$.jobStatistics.totalSlotMs') AS INT64), 0) AS slot_ms,
    COALESCE(
      NULLIF(JSON_VALUE(job, '$.jobStatistics.reservation'), ''),
      (SELECT IF(COUNT(DISTINCT u.name) = 1, MAX(u.name), NULL) FROM UNNEST(reservation_usage) AS u WHERE u.name != ''),
      ''
    ) AS reservation,
    reservation_usage,
    -- v1 has no cacheHit: Google's own v1 view calls a query without bytes, slot-ms or error cached.
    -- only a SELECT's results come from the cache (parse.ts CACHEABLE_STATEMENTS)
    job_type = 'QUERY' AND COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.statementType'), '') IN ('SELECT', '')
    AND JSON_VALUE(job, '$.jobStatistics.totalProcessedBytes') IS NULL AND JSON_VALUE(job, '$.jobStatistics.totalSlotMs') IS NULL AND NOT failed AS cache_hit,
    COALESCE(JSON_VALUE(job, '$.jobConfiguration.dryRun') = 'true', FALSE) AS dry_run,
    IF(failed, COALESCE(CAST(JSON_VALUE(job, '$.jobStatus.error.code') AS INT64), 0), NULL) AS error_code,
    IF(failed, COALESCE(JSON_VALUE(job, '$.jobStatus.error.message'), ''), NULL) AS error_message,
    IF(
      COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.statementType'), '') = 'CREATE_MODEL',
      (
        SELECT IF(COUNT(DISTINCT UPPER(t)) = 1, MAX(UPPER(t)), '')
        FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_VALUE(job, '$.jobConfiguration.query.query'), ''), r"""(?i)\bmodel_type\s*=\s*['"]([A-Za-z_]+)['"]""")) AS t
      ),
      ''
    ) AS model_type,
    ARRAY(
      SELECT DISTINCT REGEXP_REPLACE(CONCAT('projects/', t.project_id, '/datasets/', t.dataset_id, '/tables/', t.table_id), r'[$@].*$', '')
      FROM (
        SELECT JSON_VALUE(t, '$.projectId') AS project_id, JSON_VALUE(t, '$.datasetId') AS dataset_id, JSON_VALUE(t, '$.tableId') AS table_id
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStatistics.referencedTables')) AS t
      ) AS t
      WHERE COALESCE(t.project_id, '') != '' AND COALESCE(t.dataset_id, '') != '' AND COALESCE(t.table_id, '') != ''
    ) AS referenced_tables,
    ARRAY(
      SELECT DISTINCT REGEXP_REPLACE(CONCAT('projects/', t.project_id, '/datasets/', t.dataset_id, '/tables/', t.table_id), r'[$@].*$', '')
      FROM (
        SELECT JSON_VALUE(t, '$.projectId') AS project_id, JSON_VALUE(t, '$.datasetId') AS dataset_id, JSON_VALUE(t, '$.tableId') AS table_id
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStatistics.referencedViews')) AS t
      ) AS t
      WHERE COALESCE(t.project_id, '') != '' AND COALESCE(t.dataset_id, '') != '' AND COALESCE(t.table_id, '') != ''
    ) AS referenced_views,
    CAST(NULL AS STRING) AS parent_job_id,
    CAST(JSON_VALUE(job, '$.jobStatistics.endTime') AS TIMESTAMP) AS end_time,
    -- the labels (a map, exported as repeated key/value, read here as JSON) as the same JSON object
    IF(
      ARRAY_LENGTH(JSON_QUERY_ARRAY(job, '$.jobConfiguration.labels')) > 0,
      CONCAT('{', ARRAY_TO_STRING(ARRAY(
        SELECT CONCAT(TO_JSON_STRING(JSON_VALUE(l, '$.key')), ':', TO_JSON_STRING(COALESCE(JSON_VALUE(l, '$.value'), '')))
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobConfiguration.labels')) AS l WITH OFFSET AS position
        WHERE JSON_VALUE(l, '$.key') IS NOT NULL
        ORDER BY position
      ), ','), '}'),
      NULL
    ) AS labels_json,
    job IS NULL AS job_missing,
    COALESCE(JSON_VALUE(job, '$.jobName.projectId'), '') = '' OR COALESCE(JSON_VALUE(job, '$.jobName.jobId'), '') = '' AS name_missing,
    JSON_QUERY(job, '$.jobName') AS name_raw,
    COALESCE(JSON_VALUE(job, '$.jobStatus.state'), '') IN ('', 'DONE') AS done
  FROM (
    SELECT
      *,
      -- reservationUsage[] read through JSON: Google no longer fills it, so a sink table created
      -- since has no column for it (the Log Router adds a column when an entry first carries one)
      ARRAY(
        SELECT AS STRUCT COALESCE(JSON_VALUE(u, '$.name'), '') AS name, COALESCE(SAFE_CAST(JSON_VALUE(u, '$.slotMs') AS INT64), 0) AS slot_ms
        FROM UNNEST(JSON_QUERY_ARRAY(job, '$.jobStatistics.reservationUsage')) AS u WITH OFFSET AS i
        ORDER BY i
      ) AS reservation_usage,
      -- A succeeded v1 job carries `"error": {}`.
      (JSON_VALUE(job, '$.jobStatus.error.code') IS NOT NULL OR JSON_VALUE(job, '$.jobStatus.error.message') IS NOT NULL) AS failed,
      -- The job's kind from which configuration it carries (the last present wins, as in the parser).
      CASE
        WHEN JSON_QUERY(job, '$.jobConfiguration.tableCopy') IS NOT NULL THEN 'COPY'
        WHEN JSON_QUERY(job, '$.jobConfiguration.extract') IS NOT NULL THEN 'EXPORT'
        WHEN JSON_QUERY(job, '$.jobConfiguration.load') IS NOT NULL THEN 'IMPORT'
        WHEN JSON_QUERY(job, '$.jobConfiguration.query') IS NOT NULL THEN 'QUERY'
        ELSE ''
      END AS job_type
    FROM (
      SELECT *, JSON_QUERY(raw, '$.protopayload_auditlog.servicedata_v1_bigquery.jobCompletedEvent.job') AS job
      FROM formats
      WHERE audit_format = 'v1' AND JSON_QUERY(raw, '$.protopayload_auditlog.servicedata_v1_bigquery.jobCompletedEvent') IS NOT NULL
    )
  )
),
reads AS (
  SELECT
    *,
    REGEXP_CONTAINS(COALESCE(payload.resourceName, ''), r'^projects/[^/]+/datasets/[^/]+/tables/[^/]+$') AS is_table,
    REGEXP_EXTRACT(COALESCE(JSON_VALUE(metadata, '$.tableDataRead.jobName'), ''), r'^projects/([^/]+)/jobs/[^/]+$') AS reader_project,
    REGEXP_EXTRACT(COALESCE(JSON_VALUE(metadata, '$.tableDataRead.jobName'), ''), r'^projects/[^/]+/jobs/([^/]+)$') AS reader_job,
    -- the Storage Read API session (parse.ts READ_SESSION): sessionName, or the readStream's session
    REGEXP_EXTRACT(
      COALESCE(NULLIF(JSON_VALUE(metadata, '$.tableDataRead.sessionName'), ''), JSON_VALUE(metadata, '$.tableDataRead.readStream'), ''),
      r'^(projects/[^/]+/locations/[^/]+/sessions/[^/]+)(?:/streams/[^/]+)?$'
    ) AS read_session,
    COALESCE(SAFE_CAST(TRIM(JSON_QUERY(metadata, '$.tableDataRead.scannedBytes'), '"') AS INT64), 0) AS scanned_bytes
  FROM v2_events
  WHERE event IS NULL AND JSON_QUERY(metadata, '$.tableDataRead') IS NOT NULL
),
table_reads AS (
  SELECT
    *,
    COALESCE(IF(is_table, REGEXP_EXTRACT(payload.resourceName, r'^projects/([^/]+)/'), NULL), NULLIF(resource_project, '')) AS data_project
  FROM reads
),
rejected AS (
  SELECT log_name, insert_id, log_time, receive_time, raw, rejection.reason, rejection.detail
  FROM v2_checked
  WHERE rejection IS NOT NULL
  UNION ALL
  SELECT
    log_name,
    insert_id,
    log_time,
    receive_time,
    raw,
    'missing_field',
    CASE
      WHEN job_missing THEN 'protoPayload.serviceData.jobCompletedEvent.job: expected the job, found nothing'
      WHEN name_missing THEN CONCAT('protoPayload.serviceData.jobCompletedEvent.job.jobName: expected {projectId, jobId}, found ', COALESCE(name_raw, 'nothing'))
      ELSE 'protoPayload.serviceData.jobCompletedEvent.job.jobStatistics.endTime: expected an RFC 3339 timestamp, found nothing'
    END
  FROM v1_jobs
  WHERE job_missing OR (done AND (name_missing OR end_time IS NULL))
  UNION ALL
  SELECT
    log_name,
    insert_id,
    log_time,
    receive_time,
    raw,
    'missing_field',
    CONCAT('protoPayload.resourceName: expected projects/P/datasets/D/tables/T, found ', COALESCE(TO_JSON_STRING(payload.resourceName), 'nothing'))
  FROM table_reads
  WHERE data_project IS NULL
  UNION ALL
  SELECT
    log_name,
    insert_id,
    log_time,
    receive_time,
    raw,
    'not_bigquery_audit',
    CONCAT('protoPayload.serviceName: expected "bigquery.googleapis.com", found ', COALESCE(TO_JSON_STRING(payload.serviceName), 'nothing'))
  FROM formats
  WHERE audit_format = 'not_bigquery'
)
SELECT
  entry_kind, log_name, insert_id, log_time, receive_time, audit_format, billing_project, job_name,
  location, principal, job_type, statement_type, billed_bytes, billed_bytes_present, processed_bytes,
  slot_ms, reservation, reservation_usage, cache_hit, dry_run, error_code, error_message, model_type,
  referenced_tables, parent_job_id, end_time, labels_json, referenced_views,
  CAST(NULL AS STRING) AS data_project, CAST(NULL AS STRING) AS read_reason,
  CAST(NULL AS STRING) AS reader_billing_project, CAST(NULL AS STRING) AS reader_job_id,
  CAST(NULL AS STRING) AS reason, CAST(NULL AS STRING) AS detail, CAST(NULL AS STRING) AS raw,
  CAST(NULL AS STRING) AS read_session, CAST(NULL AS INT64) AS scanned_bytes
FROM v2_jobs
UNION ALL
SELECT
  entry_kind, log_name, insert_id, log_time, receive_time, audit_format, billing_project, job_name,
  location, principal, job_type, statement_type, billed_bytes, billed_bytes_present, processed_bytes,
  slot_ms, reservation, reservation_usage, cache_hit, dry_run, error_code, error_message, model_type,
  referenced_tables, parent_job_id, end_time, labels_json, referenced_views,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL
FROM v1_jobs
WHERE done AND NOT job_missing AND NOT name_missing AND end_time IS NOT NULL
UNION ALL
SELECT
  'table_read', log_name, insert_id, log_time, receive_time, 'v2', NULL, NULL,
  NULL, principal, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  data_project,
  COALESCE(JSON_VALUE(metadata, '$.tableDataRead.reason'), ''),
  reader_project,
  IF(reader_project IS NULL, NULL, CONCAT(reader_project, ':', reader_job)),
  NULL, NULL, NULL,
  read_session, scanned_bytes
FROM table_reads
WHERE data_project IS NOT NULL
UNION ALL
SELECT
  'rejected', log_name, insert_id, log_time, receive_time, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL,
  reason, detail, raw,
  NULL, NULL
FROM rejected
