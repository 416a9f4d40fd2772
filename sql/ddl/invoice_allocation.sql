-- One row per department's share of a BigQuery charge of the Cloud Billing export (sql/invoice/invoice_allocation.sql).
CREATE TABLE IF NOT EXISTS invoice_allocation (
  period STRING,
  day DATE,
  billing_account_id STRING,
  billing_project STRING,
  service_description STRING,
  sku_id STRING,
  sku_description STRING,
  sku_group STRING,
  location STRING,
  cost_type STRING,
  department STRING,
  basis STRING,
  reason STRING,
  capacity_status STRING,
  currency STRING,
  start_time TIMESTAMP,
  end_time TIMESTAMP,
  net NUMERIC,
  list NUMERIC,
  cost NUMERIC,
  pricing_quantity NUMERIC,
  pricing_unit STRING,
  net_allocated NUMERIC,
  list_allocated NUMERIC,
  cost_allocated NUMERIC
)
PARTITION BY day
CLUSTER BY department, billing_project
OPTIONS (description = 'bq-chargeback: the Cloud Billing export shared out to departments, exact, rounded once per period to the minor unit by largest remainder');
