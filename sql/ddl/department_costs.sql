CREATE TABLE IF NOT EXISTS department_costs (
  period_start DATE NOT NULL,
  granularity STRING,
  period STRING,
  department STRING,
  compute_paid_usd NUMERIC,
  compute_consumed_usd NUMERIC,
  storage_usd NUMERIC,
  free_rides_given_usd NUMERIC,
  free_rides_taken_usd NUMERIC,
  unpriced_jobs INT64 OPTIONS (description = 'jobs billed to the department that no rule could price: cost unknown, not 0')
)
PARTITION BY period_start
CLUSTER BY department
OPTIONS (description = 'bq-chargeback: per period and department, compute paid and consumed, storage, free rides');
