-- The job rows of [@from_date, @to_date], one row per job, as src/core/job-copies.ts counts them:
-- the key drops the location (P:US.J and P:J are one job, JOB_KEY_SQL), the most complete copy
-- wins (copyCompleteness), then the latest delivered (at-least-once delivery repeats rows).
-- Shared by the reports and the page: a line `-- include: common/job_costs_once.sql` stands for it.
SELECT *
FROM job_costs
WHERE usage_date BETWEEN @from_date AND @to_date
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY REGEXP_REPLACE(job_id, r'^(.*):[^:.]*\.([^:.]*)$', r'\1:\2')
  ORDER BY IF(principal != '', 8, 0) + IF(billed_bytes > 0 OR processed_bytes > 0 OR slot_ms > 0, 4, 0)
    + IF(location != '', 2, 0) + IF(audit_format = 'v2', 1, 0) DESC, ingested_at DESC
) = 1
