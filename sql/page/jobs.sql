-- report.html of a period: the daily trend, the top jobs and principals, and counts, from the job
-- rows (each job once). Parameters: @from_date, @to_date. One row per job with a cost rank.
WITH jobs AS (
  -- include: common/job_costs_once.sql
)
SELECT 'trend' AS part, FORMAT_DATE('%Y-%m-%d', usage_date) AS day, payer_department AS department,
  CAST(NULL AS STRING) AS job_id, CAST(NULL AS STRING) AS principal, CAST(NULL AS STRING) AS consumer_department,
  CAST(NULL AS STRING) AS billing_project, CAST(NULL AS STRING) AS statement_type, CAST(NULL AS INT64) AS billed_bytes,
  CAST(NULL AS TIMESTAMP) AS end_time, CAST(NULL AS ARRAY<STRING>) AS findings, COUNT(*) AS jobs, SUM(compute_cost_usd) AS cost
FROM jobs GROUP BY usage_date, payer_department
UNION ALL
SELECT * FROM (
  SELECT 'top_job', FORMAT_DATE('%Y-%m-%d', usage_date), payer_department, job_id, principal, consumer_department,
    billing_project, statement_type, billed_bytes, end_time, findings, 1, compute_cost_usd
  FROM jobs WHERE compute_cost_usd > 0 ORDER BY compute_cost_usd DESC, job_id LIMIT 20
)
UNION ALL
SELECT * FROM (
  SELECT 'top_principal', CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), principal,
    ANY_VALUE(consumer_department), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS INT64),
    CAST(NULL AS TIMESTAMP), CAST(NULL AS ARRAY<STRING>), COUNT(*), SUM(compute_cost_usd)
  FROM jobs GROUP BY principal ORDER BY SUM(compute_cost_usd) DESC, principal LIMIT 20
)
