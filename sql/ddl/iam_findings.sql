CREATE TABLE IF NOT EXISTS iam_findings (
  kind STRING NOT NULL,
  severity STRING NOT NULL,
  status STRING,
  project STRING,
  resource STRING,
  member STRING,
  holder STRING,
  department STRING,
  role STRING,
  rights ARRAY<STRING>,
  condition STRING,
  jobs INT64,
  cost_usd NUMERIC,
  remediation STRING,
  source STRING,
  audit_time TIMESTAMP NOT NULL
)
PARTITION BY DATE(audit_time)
CLUSTER BY kind, project
OPTIONS (description = 'bq-chargeback: who may bill or read which project, from the IAM policies, joined with the logs');
