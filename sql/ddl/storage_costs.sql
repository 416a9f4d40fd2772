CREATE TABLE IF NOT EXISTS storage_costs (
  period_start DATE NOT NULL,
  granularity STRING,
  period STRING,
  department STRING,
  project_id STRING,
  dataset STRING,
  billing_model STRING,
  storage_usd NUMERIC
)
PARTITION BY period_start
CLUSTER BY department, project_id
OPTIONS (description = 'bq-chargeback: storage cost per period, department, project and dataset');
