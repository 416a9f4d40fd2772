-- The findings a run of the sink pipeline wrote or changed, of the kinds that alert: step 6
-- (30_findings.sql) stamps each row it inserts or updates with ingested_at = @run_time, and only
-- rows of the 5 days before @run_time's day (its MERGE's bound, which also prunes partitions).
-- Parameters: @run_time TIMESTAMP (the TransferRun's runTime), @alerting_kinds ARRAY<STRING>
-- (ALERTING_KINDS of src/core/findings.ts).
SELECT
  kind, severity, job_id, billing_project, principal, data_projects, cost_usd, remediation,
  finding_time, usage_date
FROM findings
WHERE ingested_at = @run_time
  AND usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
  AND kind IN UNNEST(@alerting_kinds)
ORDER BY finding_time, kind, job_id, principal
