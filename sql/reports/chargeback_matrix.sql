-- Payer x consumer department compute per period (docs/tables.md).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING ('month' or 'day').
WITH jobs AS (
  -- include: common/job_costs_once.sql
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
