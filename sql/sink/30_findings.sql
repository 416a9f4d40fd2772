-- Step 6: findings. Job findings (detect.ts detectJobFindings) from priced_jobs; unexpected
-- billing projects (detect.ts UnexpectedReadDetector) from the window's tableDataRead entries by
-- jobs: reads of one job are one finding (a redacted job: one principal at one instant). The
-- source holds only changes: new or different findings ('upsert'), and findings of this run's
-- jobs that no longer apply ('delete'), so a re-run writes nothing.
MERGE findings AS t
USING (
  WITH projects AS (
    SELECT p.project, p.department, p.kind
    FROM registry_projects AS p
    JOIN current_registry USING (registry_version)
  ),
  -- detect.ts iamMember: each principal of the window's jobs and reads as an IAM member
  members AS (
    SELECT
      principal,
      CASE
        WHEN principal = '' THEN '(redacted principal)'
        WHEN STRPOS(principal, '://') > 0 OR REGEXP_CONTAINS(principal, r'^(user|serviceAccount|group|domain):') THEN principal
        WHEN ENDS_WITH(principal, '.gserviceaccount.com') THEN CONCAT('serviceAccount:', principal)
        ELSE CONCAT('user:', principal)
      END AS member
    FROM (SELECT DISTINCT principal FROM sink_entries WHERE principal IS NOT NULL)
  ),
  partner_projects AS (
    SELECT DISTINCT p.value AS project
    FROM registry_partners AS p
    JOIN current_registry USING (registry_version)
    WHERE p.match_kind = 'billing_project'
  ),
  job_findings AS (
    SELECT
      kind,
      CASE kind
        WHEN 'unregistered_project' THEN IF(compute_cost_usd > 0, 'medium', 'low')
        WHEN 'unregistered_project_number' THEN 'low'
        -- critical when every table it read is outside the organisation: their data, our bill
        WHEN 'external_free_ride' THEN IF(
          ARRAY_LENGTH(data_owner_departments) > 0
            AND NOT EXISTS (SELECT 1 FROM UNNEST(data_owner_departments) AS owner WHERE owner != 'outside'),
          'critical', 'high')
        ELSE 'medium'
      END AS severity,
      job_id,
      billing_project,
      principal,
      data_projects,
      compute_cost_usd AS cost_usd,
      CASE kind
        WHEN 'unregistered_project' THEN CONCAT(
          'add project ', billing_project, " to a department's projects (or to shared_projects) in the registry, or remove roles/bigquery.jobUser grants on ",
          billing_project)
        WHEN 'unregistered_project_number' THEN CONCAT(
          member, ' is a Google-managed account of project number ', agent_project_number, ", charged to ", billing_project,
          "'s department meanwhile: if ", agent_project_number, ' is ', billing_project, "'s number (gcloud projects describe ",
          billing_project, ' --format="value(projectNumber)"), add "', billing_project, ': ', agent_project_number,
          '" under project_numbers in the registry; otherwise register the project it belongs to')
        WHEN 'external_free_ride' THEN CONCAT(
          'remove roles/bigquery.jobUser for ', member, IF(partner IS NULL, '', CONCAT(' (partner ', partner, ')')), ' on project ', billing_project,
          '; to share data, grant roles/bigquery.dataViewer on the datasets only and let them query from their own billing project')
        ELSE CONCAT(
          'remove roles/bigquery.jobUser for ', member, ' on project ', billing_project, ' (department ', payer_department, '); ',
          principal_department, ' should run its jobs in its own project, or declare ', billing_project, ' in shared_projects if it is meant to be shared')
      END AS remediation,
      end_time AS finding_time,
      usage_date
    FROM priced_jobs
    JOIN members USING (principal),
    UNNEST(findings) AS kind
  ),
  read_entries AS (
    SELECT
      r.*,
      m.member,
      c.kind AS principal_kind,
      reader.project IS NOT NULL OR partner.project IS NOT NULL AS reader_expected
    FROM sink_entries AS r
    JOIN projects AS data ON data.project = r.data_project
    LEFT JOIN projects AS reader ON reader.project = r.reader_billing_project
    LEFT JOIN partner_projects AS partner ON partner.project = r.reader_billing_project
    LEFT JOIN principal_classes AS c ON c.principal = r.principal
    JOIN members AS m ON m.principal = r.principal
    WHERE r.entry_kind = 'table_read' AND r.read_reason = 'JOB'
  ),
  read_findings_all AS (
    SELECT
      *,
      COALESCE(reader_job_id, CONCAT(principal, '|', FORMAT_TIMESTAMP('%FT%H:%M:%E*SZ', log_time))) AS read_key
    FROM read_entries
    -- a known reader billing project is a finding when it is neither ours nor a partner's; a
    -- redacted one (outside the organisation) unless the principal is a partner's
    WHERE IF(reader_billing_project IS NOT NULL, NOT reader_expected, COALESCE(principal_kind, '') != 'partner')
  ),
  read_findings AS (
    SELECT
      'unexpected_billing_project' AS kind,
      first.severity,
      COALESCE(first.reader_job_id, '') AS job_id,
      COALESCE(first.reader_billing_project, '') AS billing_project,
      first.principal,
      data_projects,
      CAST(0 AS NUMERIC) AS cost_usd,
      first.remediation,
      first.log_time AS finding_time,
      DATE(first.log_time, (SELECT time_zone FROM current_registry)) AS usage_date
    FROM (
      SELECT
        read_key,
        ARRAY_AGG(
          STRUCT(
            reader_job_id,
            reader_billing_project,
            principal,
            log_time,
            IF(reader_billing_project IS NOT NULL, 'high', IF(principal = '', 'critical', 'high')) AS severity,
            IF(
              reader_billing_project IS NOT NULL,
              CONCAT('remove roles/bigquery.dataViewer for ', member, ' on ', data_project, ' (or the dataset), or add ', reader_billing_project,
                " to a partner's billing_projects in the registry if this sharing is intended"),
              CONCAT('a principal outside the registry read ', data_project, ' from a billing project outside the organisation: remove roles/bigquery.dataViewer for ',
                member, ' on ', data_project, ' (or the dataset), or register the reader as a partner')
            ) AS remediation
          )
          ORDER BY log_time, insert_id LIMIT 1
        )[OFFSET(0)] AS first,
        ARRAY_AGG(DISTINCT data_project ORDER BY data_project) AS data_projects
      FROM read_findings_all
      GROUP BY read_key
    )
  ),
  -- storage-read.ts storageReadFinding: a Storage Read API session billed to a department's project
  -- by an outsider (high) or by another department's principal (medium); its entries' bytes priced
  -- each (price_book streaming_read_per_tib of the session's location on the read's day) and summed.
  storage_read_entries AS (
    SELECT
      r.*,
      payer.department AS payer_department,
      c.kind AS principal_kind,
      c.department AS principal_department,
      REGEXP_EXTRACT(r.read_session, r'^projects/([^/]+)/') AS session_project,
      REGEXP_EXTRACT(r.read_session, r'^projects/[^/]+/locations/([^/]+)/') AS session_location,
      DATE(r.log_time, (SELECT time_zone FROM current_registry)) AS read_day,
      m.member
    FROM sink_entries AS r
    JOIN projects AS payer ON payer.project = REGEXP_EXTRACT(r.read_session, r'^projects/([^/]+)/') AND payer.kind = 'department'
    LEFT JOIN principal_classes AS c ON c.principal = r.principal
    JOIN members AS m ON m.principal = r.principal
    WHERE r.entry_kind = 'table_read' AND r.read_session IS NOT NULL
  ),
  storage_read_priced AS (
    SELECT
      e.*,
      IF(e.principal_kind IN ('external', 'partner'), 'high', 'medium') AS severity,
      IF(e.principal_kind IN ('external', 'partner'), 'a principal outside the organisation', CONCAT('a principal of ', e.principal_department)) AS who,
      (
        SELECT ARRAY_AGG(b.nanos ORDER BY b.from_date DESC LIMIT 1)[OFFSET(0)]
        FROM price_book AS b
        JOIN current_registry USING (registry_version)
        WHERE b.item = 'streaming_read_per_tib'
          AND b.location = REGEXP_REPLACE(LOWER(e.session_location), r'^region-', '')
          AND b.from_date <= e.read_day
      ) AS nanos_per_tib
    FROM storage_read_entries AS e
    WHERE e.principal_kind IN ('external', 'partner')
      OR (e.principal_kind IN ('registered', 'service_account') AND e.principal_department != e.payer_department)
  ),
  storage_read_findings AS (
    SELECT
      'storage_read_free_ride' AS kind,
      first.severity,
      read_session AS job_id,
      first.session_project AS billing_project,
      first.principal,
      data_projects,
      CAST(cost_nanos AS NUMERIC) / 1000000000 AS cost_usd,
      first.remediation,
      first.log_time AS finding_time,
      first.read_day AS usage_date
    FROM (
      SELECT
        read_session,
        ARRAY_AGG(
          STRUCT(
            severity,
            session_project,
            principal,
            log_time,
            read_day,
            CONCAT(
              who, ' read ', data_project, ' through a Storage Read API session billed to ', session_project,
              ' (department ', payer_department, ')',
              IF(nanos_per_tib IS NULL, CONCAT(' (its bytes are not priced: no Storage Read API price for ', session_location, ' on ', CAST(read_day AS STRING), ')'), ''),
              ': remove roles/bigquery.readSessionUser (bigquery.readsessions.create) for ', member, ' on project ', session_project,
              ', and let them create read sessions in their own project'
            ) AS remediation
          )
          ORDER BY log_time, insert_id LIMIT 1
        )[OFFSET(0)] AS first,
        ARRAY_AGG(DISTINCT data_project ORDER BY data_project) AS data_projects
      FROM storage_read_priced
      GROUP BY read_session
    )
    JOIN (
      -- each entry once (logName, insertId), its cost rounded half-up to the nano-dollar
      SELECT read_session, SUM(nanos) AS cost_nanos
      FROM (
        SELECT DISTINCT
          read_session, log_name, insert_id,
          COALESCE(CAST(ROUND(CAST(scanned_bytes AS BIGNUMERIC) * nanos_per_tib / 1099511627776) AS INT64), 0) AS nanos
        FROM storage_read_priced
      )
      GROUP BY read_session
    ) USING (read_session)
  ),
  wanted AS (
    SELECT * FROM job_findings
    UNION ALL
    SELECT * FROM read_findings
    UNION ALL
    SELECT * FROM storage_read_findings
  ),
  old AS (
    SELECT * EXCEPT (ingested_at)
    FROM findings
    WHERE usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
  ),
  merged AS (
    SELECT
      w.* REPLACE (
        -- a job's reads cut by the window's edge: keep the projects seen by earlier runs
        IF(
          w.kind IN ('unexpected_billing_project', 'storage_read_free_ride') AND o.kind IS NOT NULL,
          ARRAY(SELECT DISTINCT p FROM UNNEST(ARRAY_CONCAT(w.data_projects, o.data_projects)) AS p ORDER BY p),
          w.data_projects
        ) AS data_projects,
        -- a session's reads cut by the window's edge: a window sees a part of them, never more
        IF(w.kind = 'storage_read_free_ride' AND o.kind IS NOT NULL, GREATEST(w.cost_usd, o.cost_usd), w.cost_usd) AS cost_usd
      ),
      o AS old_row
    FROM wanted AS w
    LEFT JOIN old AS o
      ON o.kind = w.kind AND o.job_id = w.job_id
      AND (w.job_id != '' OR (o.principal = w.principal AND o.finding_time = w.finding_time))
  )
  SELECT m.* EXCEPT (old_row), 'upsert' AS merge_action, @run_time AS ingested_at
  FROM merged AS m
  WHERE m.old_row.kind IS NULL
    OR TO_JSON_STRING(m.old_row) != TO_JSON_STRING((SELECT AS STRUCT m.* EXCEPT (old_row)))
  UNION ALL
  -- findings of this run's jobs that their new pricing or attribution no longer gives
  SELECT o.*, 'delete' AS merge_action, @run_time AS ingested_at
  FROM old AS o
  WHERE o.kind NOT IN ('unexpected_billing_project', 'storage_read_free_ride')
    AND o.job_id IN (SELECT job_id FROM priced_jobs)
    AND NOT EXISTS (SELECT 1 FROM job_findings AS j WHERE j.kind = o.kind AND j.job_id = o.job_id)
) AS s
ON t.kind = s.kind AND t.job_id = s.job_id
  AND (s.job_id != '' OR (t.principal = s.principal AND t.finding_time = s.finding_time))
  AND t.usage_date >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
WHEN MATCHED AND s.merge_action = 'delete' THEN DELETE
WHEN MATCHED THEN UPDATE SET
  severity = s.severity, billing_project = s.billing_project, principal = s.principal,
  data_projects = s.data_projects, cost_usd = s.cost_usd, remediation = s.remediation,
  finding_time = s.finding_time, usage_date = s.usage_date, ingested_at = s.ingested_at
WHEN NOT MATCHED AND s.merge_action = 'upsert' THEN INSERT (
  kind, severity, job_id, billing_project, principal, data_projects, cost_usd, remediation,
  finding_time, usage_date, ingested_at
) VALUES (
  s.kind, s.severity, s.job_id, s.billing_project, s.principal, s.data_projects, s.cost_usd,
  s.remediation, s.finding_time, s.usage_date, s.ingested_at
)
