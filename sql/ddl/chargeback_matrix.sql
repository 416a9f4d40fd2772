CREATE TABLE IF NOT EXISTS chargeback_matrix (
  period_start DATE NOT NULL,
  granularity STRING,
  period STRING,
  payer_department STRING,
  consumer_department STRING,
  jobs INT64,
  compute_cost_usd NUMERIC
)
PARTITION BY period_start
CLUSTER BY payer_department, consumer_department
OPTIONS (description = 'bq-chargeback: payer x consumer department compute per period');
