-- The findings a run of the sink pipeline wrote or changed, of the kinds that alert: step 6
-- (30_findings.sql) stamps each row it inserts or updates with ingested_at = @run_time, and only
-- rows of the 5 days before @run_time's day (its MERGE's bound, which also prunes partitions).
-- A script's statements commit one by one, so a run that failed after step 6 stamped findings
-- but recorded no sink_runs row (step 8 is last) and was never alerted: the findings stamped
-- after the previous recorded run are this run's to raise too.
-- Parameters: @run_time TIMESTAMP (the TransferRun's runTime), @alerting_kinds ARRAY<STRING>
-- (ALERTING_KINDS of src/core/findings.ts).
SELECT
  kind, severity, job_id, billing_project, principal, data_projects, cost_usd, remediation,
  finding_time, usage_date
FROM findings
WHERE ingested_at <= @run_time
  AND ingested_at > COALESCE(
    (SELECT MAX(run_time) FROM sink_runs WHERE run_time < @run_time),
    TIMESTAMP_SUB(@run_time, INTERVAL 5 DAY)
  )
  AND usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
  AND kind IN UNNEST(@alerting_kinds)
ORDER BY finding_time, kind, job_id, principal
