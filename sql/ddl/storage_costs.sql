CREATE TABLE IF NOT EXISTS storage_costs (
  period_start DATE NOT NULL,
  granularity STRING,
  period STRING,
  department STRING,
  project_id STRING,
  dataset STRING,
  billing_model STRING,
  storage_usd NUMERIC,
  unpriced_tables INT64 OPTIONS (description = 'tables whose location has no storage price: not in storage_usd')
)
PARTITION BY period_start
CLUSTER BY department, project_id
OPTIONS (description = 'bq-chargeback: storage cost per period, department, project and dataset');
