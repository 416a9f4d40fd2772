CREATE TABLE IF NOT EXISTS reconciliation (
  period STRING,
  billing_project STRING,
  sku_group STRING,
  currency STRING,
  estimated_usd NUMERIC,
  list_cost_usd NUMERIC,
  list_cost NUMERIC,
  credits NUMERIC,
  net_cost NUMERIC,
  allocated_to_jobs NUMERIC,
  allocated_to_project_owner NUMERIC,
  idle_to_admin NUMERIC,
  unattributed NUMERIC,
  rounding NUMERIC,
  idle_cost NUMERIC,
  used_slot_ms INT64,
  capacity_slot_ms INT64,
  credit_types ARRAY<STRING>,
  reasons ARRAY<STRING>
)
OPTIONS (description = 'bq-chargeback: per period, billing project and SKU group, the estimate from the logs beside the Cloud Billing export, how it was shared out, and why any remainder was not shared by use');
