-- Payer x consumer department compute per period (docs/tables.md).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING ('month' or 'day'),
-- @free_tier STRING ('deduct': cost net of the free tier, common/free_tier.sql).
WITH jobs AS (
  -- include: common/job_costs_once.sql
),
free_jobs AS (
  -- include: common/free_tier.sql
)
SELECT
  IF(@granularity = 'month', FORMAT_DATE('%Y-%m', usage_date), FORMAT_DATE('%Y-%m-%d', usage_date)) AS period,
  payer_department,
  consumer_department,
  COUNT(*) AS jobs,
  SUM(compute_cost_usd - free_usd) AS compute_cost_usd
FROM free_jobs
GROUP BY period, payer_department, consumer_department
ORDER BY period, payer_department, consumer_department
