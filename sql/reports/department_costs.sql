-- Per period and department: compute paid and consumed, storage, free rides given and taken,
-- and the jobs billed to it that no rule could price (their cost is unknown, not 0)
-- (docs/tables.md). Storage comes from the storage_costs rows of the same run.
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING ('month' or 'day'),
-- @departments ARRAY<STRING> (every registry department, listed even with nothing),
-- @free_ride_kinds ARRAY<STRING> (FREE_RIDE_KINDS of src/core/findings.ts), @free_tier STRING
-- ('deduct': compute paid and consumed net of the free tier, common/free_tier.sql; free rides at list).
WITH jobs AS (
  -- include: common/job_costs_once.sql
),
free_jobs AS (
  -- include: common/free_tier.sql
),
periods AS (
  SELECT DISTINCT IF(@granularity = 'month', FORMAT_DATE('%Y-%m', day), FORMAT_DATE('%Y-%m-%d', day)) AS period
  FROM UNNEST(GENERATE_DATE_ARRAY(@from_date, @to_date)) AS day
),
job_periods AS (
  SELECT
    IF(@granularity = 'month', FORMAT_DATE('%Y-%m', usage_date), FORMAT_DATE('%Y-%m-%d', usage_date)) AS period,
    payer_department,
    consumer_department,
    compute_cost_usd,
    free_usd,
    pricing_model,
    EXISTS (
      SELECT 1 FROM UNNEST(findings) AS kind WHERE kind IN UNNEST(@free_ride_kinds)
    ) AS free_ride
  FROM free_jobs
),
paid AS (
  SELECT
    period,
    payer_department AS department,
    SUM(compute_cost_usd - free_usd) AS compute_paid_usd,
    SUM(IF(free_ride, compute_cost_usd, 0)) AS free_rides_given_usd,
    COUNTIF(pricing_model = 'unpriced') AS unpriced_jobs
  FROM job_periods
  GROUP BY period, department
),
consumed AS (
  SELECT
    period,
    consumer_department AS department,
    SUM(compute_cost_usd - free_usd) AS compute_consumed_usd,
    SUM(IF(free_ride, compute_cost_usd, 0)) AS free_rides_taken_usd
  FROM job_periods
  GROUP BY period, department
),
storage AS (
  SELECT period, department, SUM(storage_usd) AS storage_usd
  FROM storage_costs
  WHERE granularity = @granularity AND period IN (SELECT period FROM periods)
  GROUP BY period, department
),
departments AS (
  SELECT period, department FROM periods CROSS JOIN UNNEST(@departments) AS department
  UNION DISTINCT SELECT period, department FROM paid
  UNION DISTINCT SELECT period, department FROM consumed
  UNION DISTINCT SELECT period, department FROM storage
)
SELECT
  period,
  department,
  COALESCE(compute_paid_usd, 0) AS compute_paid_usd,
  COALESCE(compute_consumed_usd, 0) AS compute_consumed_usd,
  COALESCE(storage_usd, 0) AS storage_usd,
  COALESCE(free_rides_given_usd, 0) AS free_rides_given_usd,
  COALESCE(free_rides_taken_usd, 0) AS free_rides_taken_usd,
  COALESCE(unpriced_jobs, 0) AS unpriced_jobs
FROM departments
LEFT JOIN paid USING (period, department)
LEFT JOIN consumed USING (period, department)
LEFT JOIN storage USING (period, department)
ORDER BY period, department
