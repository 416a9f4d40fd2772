-- Payer x consumer department compute per period (docs/tables.md).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING ('month' or 'day').
WITH jobs AS (
  -- at-least-once delivery: one row per job
  SELECT *
  FROM job_costs
  WHERE usage_date BETWEEN @from_date AND @to_date
  QUALIFY ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY ingested_at DESC) = 1
)
SELECT
  IF(@granularity = 'month', FORMAT_DATE('%Y-%m', usage_date), FORMAT_DATE('%Y-%m-%d', usage_date)) AS period,
  payer_department,
  consumer_department,
  COUNT(*) AS jobs,
  SUM(compute_cost_usd) AS compute_cost_usd
FROM jobs
GROUP BY period, payer_department, consumer_department
ORDER BY period, payer_department, consumer_department
