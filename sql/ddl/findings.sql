CREATE TABLE IF NOT EXISTS findings (
  kind STRING NOT NULL,
  severity STRING,
  job_id STRING,
  billing_project STRING,
  principal STRING,
  data_projects ARRAY<STRING>,
  cost_usd NUMERIC,
  remediation STRING,
  finding_time TIMESTAMP,
  usage_date DATE,
  ingested_at TIMESTAMP
)
PARTITION BY usage_date
CLUSTER BY kind, billing_project
OPTIONS (description = 'bq-chargeback: free rides and unexpected billing projects');
