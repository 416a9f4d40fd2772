-- One row per job (at-least-once delivery may add a second: reports de-duplicate by job_id).
CREATE TABLE IF NOT EXISTS job_costs (
  job_id STRING NOT NULL OPTIONS (description = 'PROJECT:LOCATION.JOB, the de-duplication key'),
  billing_project STRING OPTIONS (description = 'project the job ran in: it pays the compute'),
  location STRING,
  principal STRING OPTIONS (description = 'who ran the job; empty when redacted'),
  payer_department STRING,
  consumer_department STRING,
  data_projects ARRAY<STRING>,
  statement_type STRING,
  billed_bytes INT64,
  slot_ms INT64,
  pricing_model STRING,
  compute_cost_usd NUMERIC OPTIONS (description = 'exact to 1e-9 USD'),
  end_time TIMESTAMP,
  findings ARRAY<STRING>,
  usage_date DATE OPTIONS (description = 'billing day of end_time in the billing time zone'),
  principal_kind STRING,
  data_owner_departments ARRAY<STRING>,
  job_type STRING,
  processed_bytes INT64,
  reservation STRING,
  cache_hit BOOL,
  error_code INT64,
  parent_job_id STRING,
  audit_format STRING,
  pricing_basis STRING,
  ingested_at TIMESTAMP
)
PARTITION BY usage_date
CLUSTER BY payer_department, consumer_department, billing_project
OPTIONS (description = 'bq-chargeback: attributed, priced jobs');
