CREATE TABLE IF NOT EXISTS coverage (
  day DATE,
  project_id STRING,
  jobs_counted INT64,
  jobs_in_logs INT64,
  jobs_coverage NUMERIC,
  bytes_billed_counted INT64,
  bytes_billed_in_logs INT64,
  bytes_coverage NUMERIC,
  below_threshold BOOL
)
OPTIONS (description = 'bq-chargeback: per billing project and day, the jobs and bytes billed the audit logs saw of what INFORMATION_SCHEMA.JOBS counted');
