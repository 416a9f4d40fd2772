-- Each principal's jobs and their compute cost per billing project in a period: what turns an
-- IAM grant from latent into realized (src/core/iam/usage.ts GrantUsage, fed the same numbers).
-- Parameters: @from_date DATE, @to_date DATE.
WITH jobs AS (
  -- include: common/job_costs_once.sql
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
