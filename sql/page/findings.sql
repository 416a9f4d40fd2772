-- report.html of a period: findings, each once, most expensive first. Parameters: @from_date, @to_date.
SELECT kind, severity, job_id, billing_project, principal, data_projects, cost_usd, remediation, finding_time,
  usage_date
FROM findings
WHERE usage_date BETWEEN @from_date AND @to_date
-- each finding once (redelivery); a redacted read has no job id, so its time is part of the key
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY kind, job_id, billing_project, principal, IF(job_id = '', finding_time, NULL)
  ORDER BY ingested_at DESC
) = 1
ORDER BY cost_usd DESC, finding_time
LIMIT 1000
