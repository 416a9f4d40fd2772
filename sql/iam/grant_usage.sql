-- Each principal's jobs and their compute cost per billing project in a period: what turns an
-- IAM grant from latent into realized (src/core/iam/usage.ts GrantUsage, fed the same numbers).
-- Parameters: @from_date DATE, @to_date DATE.
WITH jobs AS (
  -- at-least-once delivery: one row per job
  SELECT *
  FROM job_costs
  WHERE usage_date BETWEEN @from_date AND @to_date
  -- One row per job: the key drops the location (P:US.J and P:J are one job), the most complete
  -- copy wins, then the latest (src/core/job-copies.ts: jobKey, copyCompleteness).
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY REGEXP_REPLACE(job_id, r'^(.*):[^:.]*\.([^:.]*)$', r'\1:\2')
    ORDER BY IF(principal != '', 8, 0) + IF(billed_bytes > 0 OR processed_bytes > 0 OR slot_ms > 0, 4, 0)
      + IF(location != '', 2, 0) + IF(audit_format = 'v2', 1, 0) DESC, ingested_at DESC
  ) = 1
)
SELECT
  -- Emails compare case-insensitively; federated principal:// subjects as written.
  IF(STARTS_WITH(principal, 'principal://'), principal, LOWER(principal)) AS principal,
  billing_project,
  COUNT(*) AS jobs,
  SUM(compute_cost_usd) AS compute_cost_usd
FROM jobs
WHERE principal != ''
GROUP BY 1, billing_project
ORDER BY principal, billing_project
