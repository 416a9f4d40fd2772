-- Step 5: job_costs from priced_jobs. The source holds only what must change (new jobs, and
-- jobs whose row differs, e.g. re-priced after a registry push), so a re-run of a window writes
-- nothing; a v1 row never replaces a v2 one (a late v1 duplicate of a job already priced).
-- Target rows are read from the days the window can touch, which prunes job_costs' partitions.
MERGE job_costs AS t
USING (
  SELECT s.*, @run_time AS ingested_at
  FROM (
    SELECT * EXCEPT (billing_project_kind, partner, agent_project_number, principal_department, registry_version)
    FROM priced_jobs
  ) AS s
  LEFT JOIN (
    SELECT * EXCEPT (ingested_at)
    FROM job_costs
    WHERE usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
  ) AS old
    ON old.job_id = s.job_id
  WHERE old.job_id IS NULL
    OR (NOT (old.audit_format = 'v2' AND s.audit_format = 'v1') AND TO_JSON_STRING(old) != TO_JSON_STRING(s))
) AS s
ON t.job_id = s.job_id AND t.usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
WHEN MATCHED THEN UPDATE SET
  billing_project = s.billing_project, location = s.location, principal = s.principal,
  payer_department = s.payer_department, consumer_department = s.consumer_department,
  data_projects = s.data_projects, statement_type = s.statement_type, billed_bytes = s.billed_bytes,
  slot_ms = s.slot_ms, pricing_model = s.pricing_model, compute_cost_usd = s.compute_cost_usd,
  end_time = s.end_time, findings = s.findings, usage_date = s.usage_date,
  principal_kind = s.principal_kind, data_owner_departments = s.data_owner_departments,
  job_type = s.job_type, processed_bytes = s.processed_bytes, reservation = s.reservation,
  cache_hit = s.cache_hit, error_code = s.error_code, parent_job_id = s.parent_job_id,
  audit_format = s.audit_format, pricing_basis = s.pricing_basis, ingested_at = s.ingested_at
WHEN NOT MATCHED THEN INSERT (
  job_id, billing_project, location, principal, payer_department, consumer_department, data_projects,
  statement_type, billed_bytes, slot_ms, pricing_model, compute_cost_usd, end_time, findings,
  usage_date, principal_kind, data_owner_departments, job_type, processed_bytes, reservation,
  cache_hit, error_code, parent_job_id, audit_format, pricing_basis, ingested_at
) VALUES (
  s.job_id, s.billing_project, s.location, s.principal, s.payer_department, s.consumer_department, s.data_projects,
  s.statement_type, s.billed_bytes, s.slot_ms, s.pricing_model, s.compute_cost_usd, s.end_time, s.findings,
  s.usage_date, s.principal_kind, s.data_owner_departments, s.job_type, s.processed_bytes, s.reservation,
  s.cache_hit, s.error_code, s.parent_job_id, s.audit_format, s.pricing_basis, s.ingested_at
)
