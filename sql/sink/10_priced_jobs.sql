-- Step 4 of the sink pipeline: each job of sink_entries once, attributed with the newest pushed
-- registry and priced with its price book, by the rules of src/core (attribute.ts, pricebook.ts
-- priceJob, detect.ts detectJobFindings); test/sink-pipeline.test.ts proves the rows equal.
-- Lookups are equality joins on small derived keys (distinct principals, price keys), which
-- BigQuery runs as joins, not as correlated subqueries.
CREATE TEMP TABLE priced_jobs AS
WITH projects AS (
  SELECT p.project, p.department, p.kind, p.project_number
  FROM registry_projects AS p
  JOIN current_registry USING (registry_version)
),
-- One row per job: a v2 entry before a v1 one, then the earliest (redelivery, both formats).
jobs AS (
  SELECT *
  FROM (
    SELECT CONCAT(billing_project, ':', IF(location = '', '', CONCAT(location, '.')), job_name) AS job_id, *
    FROM sink_entries
    WHERE entry_kind = 'job'
  )
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY audit_format DESC, log_time, insert_id) = 1
),
-- The data owners: the departments of the referenced tables' and views' projects (a view's
-- data is its project's), "outside" for others.
data_owners AS (
  SELECT
    job_id,
    ARRAY_AGG(DISTINCT data_project ORDER BY data_project) AS data_projects,
    ARRAY_AGG(DISTINCT COALESCE(p.department, 'outside') ORDER BY COALESCE(p.department, 'outside')) AS data_owner_departments
  FROM (
    SELECT job_id, REGEXP_EXTRACT(referenced, r'^projects/([^/]+)/') AS data_project
    FROM jobs, UNNEST(ARRAY_CONCAT(referenced_tables, referenced_views)) AS referenced
  )
  LEFT JOIN projects AS p ON p.project = data_project
  WHERE data_project IS NOT NULL
  GROUP BY job_id
),
-- pricebook.ts canonicalReservation, once for each reservation name the jobs carry (their
-- reservation and their reservationUsage entries), and the registry's edition of each.
reservation_editions AS (
  SELECT n.name, r.edition
  FROM (
    SELECT name, CASE
      -- pricebook.ts canonicalReservation: P:L.R and projects/P/locations/L/reservations/R, location normalised
      WHEN REGEXP_CONTAINS(TRIM(name), r'^[^:/]+:[^./]+\.[^/]+$') THEN CONCAT(
        'projects/', REGEXP_EXTRACT(TRIM(name), r'^([^:/]+):[^./]+\.[^/]+$'),
        '/locations/', REGEXP_REPLACE(LOWER(TRIM(REGEXP_EXTRACT(TRIM(name), r'^[^:/]+:([^./]+)\.[^/]+$'))), r'^region-', ''),
        '/reservations/', REGEXP_EXTRACT(TRIM(name), r'^[^:/]+:[^./]+\.([^/]+)$'))
      WHEN REGEXP_CONTAINS(TRIM(name), r'^projects/[^/]+/locations/[^/]+/reservations/[^/]+$') THEN CONCAT(
        'projects/', REGEXP_EXTRACT(TRIM(name), r'^projects/([^/]+)/locations/[^/]+/reservations/[^/]+$'),
        '/locations/', REGEXP_REPLACE(LOWER(TRIM(REGEXP_EXTRACT(TRIM(name), r'^projects/[^/]+/locations/([^/]+)/reservations/[^/]+$'))), r'^region-', ''),
        '/reservations/', REGEXP_EXTRACT(TRIM(name), r'^projects/[^/]+/locations/[^/]+/reservations/([^/]+)$'))
      ELSE TRIM(name)
    END AS canonical
    FROM (
      SELECT reservation AS name FROM jobs
      UNION DISTINCT
      SELECT u.name FROM jobs, UNNEST(jobs.reservation_usage) AS u
    )
  ) AS n
  JOIN (
    SELECT reservation, edition FROM registry_reservations JOIN current_registry USING (registry_version)
  ) AS r
    ON r.reservation = n.canonical
),
-- attribute.ts jobLabel: the department a job's labels name, by the key first in label_keys.
job_labels AS (
  SELECT j.job_id, ARRAY_AGG(l.department ORDER BY l.key_rank LIMIT 1)[OFFSET(0)] AS department
  FROM jobs AS j
  JOIN (SELECT * FROM registry_labels JOIN current_registry USING (registry_version)) AS l
    ON JSON_VALUE(PARSE_JSON(j.labels_json)[l.label_key]) = l.label_value
  WHERE j.labels_json IS NOT NULL
  GROUP BY j.job_id
),
-- What each job is priced by: the edition of its reservation, or on demand; location and day.
price_needs AS (
  SELECT
    j.*,
    -- pricebook.ts isReserved: loads, extracts and copies on the shared pool "default-pipeline" are free
    j.reservation NOT IN ('', 'unreserved')
      AND NOT (j.job_type IN ('IMPORT', 'EXPORT', 'COPY') AND j.reservation = 'default-pipeline') AS reserved,
    -- the price_book item: the edition's slot-hour, a model type's creation per TiB, or on demand per TiB
    CASE
      WHEN j.reservation NOT IN ('', 'unreserved')
        AND NOT (j.job_type IN ('IMPORT', 'EXPORT', 'COPY') AND j.reservation = 'default-pipeline')
        THEN CONCAT(r.edition, '_per_slot_hour')
      WHEN j.statement_type = 'CREATE_MODEL' THEN CONCAT('model_creation_', j.model_type, '_per_tib')
      ELSE 'on_demand_per_tib'
    END AS price_item,
    -- pricebook.ts reservationSplitCost: an older entry naming no reservation but several in reservationUsage
    j.reservation = '' AND (SELECT COUNT(DISTINCT u.name) FROM UNNEST(j.reservation_usage) AS u) > 1 AS split,
    -- pricebook.ts isCancelled: status CANCELLED (1) or BigQuery's cancel message; a cancelled job pays its bytes
    j.error_code IS NOT NULL AND (j.error_code = 1 OR STARTS_WITH(j.error_message, 'Job execution was cancelled')) AS cancelled,
    r.edition,
    REGEXP_REPLACE(LOWER(TRIM(j.location)), r'^region-', '') AS price_location,
    -- one clock: the price in force on the job's billing day, the day that puts it in a period
    DATE(j.end_time, registry.time_zone) AS price_day,
    DATE(j.end_time, registry.time_zone) AS usage_date,
    registry.registry_version
  FROM jobs AS j
  CROSS JOIN current_registry AS registry
  LEFT JOIN reservation_editions AS r ON r.name = j.reservation
),
price_keys AS (
  SELECT DISTINCT price_item AS item, price_location, price_day
  FROM price_needs
  WHERE NOT reserved OR edition IS NOT NULL
  UNION DISTINCT
  SELECT CONCAT(e.edition, '_per_slot_hour'), n.price_location, n.price_day
  FROM price_needs AS n, UNNEST(n.reservation_usage) AS u
  JOIN reservation_editions AS e ON e.name = u.name
  WHERE n.split
),
-- The price in force: the newest from_date on or before the day at the location, else the US one.
prices_in_force AS (
  SELECT
    k.item,
    k.price_location,
    k.price_day,
    ARRAY_AGG(STRUCT(b.nanos, b.from_date, b.location) ORDER BY b.location = k.price_location DESC, b.from_date DESC LIMIT 1)[OFFSET(0)] AS price
  FROM price_keys AS k
  JOIN (SELECT b.* FROM price_book AS b JOIN current_registry USING (registry_version)) AS b
    ON b.item = k.item AND b.location IN (k.price_location, 'us') AND b.from_date <= k.price_day
  GROUP BY k.item, k.price_location, k.price_day
),
-- Each split job's entries priced at their editions, one rounding for the sum (reservationSplitCost).
split_costs AS (
  SELECT
    n.job_id,
    STRING_AGG(CONCAT(IF(u.name = '', '""', u.name), ' ', CAST(u.slot_ms AS STRING)), ', ' ORDER BY i) AS logged,
    LOGICAL_OR(u.name IN ('', 'unreserved')) AS mixed,
    SUM(u.slot_ms) AS usage_slot_ms,
    MIN(IF(e.edition IS NULL, u.name, NULL)) AS unregistered,
    ARRAY_AGG(IF(f.price IS NULL, e.edition, NULL) IGNORE NULLS ORDER BY u.name LIMIT 1)[SAFE_OFFSET(0)] AS unpriced_edition,
    CAST(ROUND(SUM(CAST(u.slot_ms AS BIGNUMERIC) * f.price.nanos) / 3600000) AS INT64) AS nanos,
    STRING_AGG(
      CONCAT(
        e.edition, ' ',
        IF(f.price.location = n.price_location,
          IF(f.price.location IN ('us', 'eu'), UPPER(f.price.location), f.price.location),
          IF(n.location = '', 'US price (job location unknown)', CONCAT('US price (no ', n.location, ' price)'))),
        ' ', CAST(CAST(f.price.nanos AS NUMERIC) / 1000000000 AS STRING), ' USD/slot-hour x ', CAST(u.slot_ms AS STRING), ' slot-ms'
      ),
      ' + ' ORDER BY u.name
    ) AS basis
  FROM price_needs AS n, UNNEST(n.reservation_usage) AS u WITH OFFSET AS i
  LEFT JOIN reservation_editions AS e ON e.name = u.name
  LEFT JOIN prices_in_force AS f
    ON f.item = CONCAT(e.edition, '_per_slot_hour') AND f.price_location = n.price_location AND f.price_day = n.price_day
  WHERE n.split
  GROUP BY n.job_id
),
priced AS (
  SELECT
    n.*,
    s AS split_cost,
    -- attribute.ts placeGoogleAgent: a Google-managed account the registry cannot place is
    -- charged to the billing project's department, unless the registry lists that project's
    -- number and the account names another (then it is an outsider's)
    CASE
      WHEN c.kind = 'google_agent' AND c.project_number IS NOT NULL AND payer.project_number IS NOT NULL
        THEN STRUCT(CONCAT('external:', LOWER(REGEXP_EXTRACT(n.principal, r'@([^@]*)$'))) AS department, 'external' AS kind, CAST(NULL AS STRING) AS partner, CAST(NULL AS STRING) AS project_number)
      WHEN c.kind = 'google_agent' THEN STRUCT(COALESCE(payer.department, 'unassigned'), c.kind, c.partner, c.project_number)
      ELSE STRUCT(c.department, c.kind, c.partner, CAST(NULL AS STRING))
    END AS principal_class,
    -- attribute.ts attribute: a label names the consumer, unless the principal is an outsider's
    lab.department AS label_department,
    COALESCE(payer.department, 'unassigned') AS payer_department,
    COALESCE(payer.kind, 'unregistered') AS billing_project_kind,
    COALESCE(o.data_projects, []) AS data_projects,
    COALESCE(o.data_owner_departments, []) AS data_owner_departments,
    f.price,
    IF(f.price.location = n.price_location,
      IF(f.price.location IN ('us', 'eu'), UPPER(f.price.location), f.price.location),
      IF(n.location = '', 'US price (job location unknown)', CONCAT('US price (no ', n.location, ' price)'))
    ) AS price_where,
    CAST(CAST(f.price.nanos AS NUMERIC) / 1000000000 AS STRING) AS price_usd,
    IF(n.error_code IS NOT NULL, 'cancelled job, billed as logged: ', '') AS prefix
  FROM price_needs AS n
  LEFT JOIN principal_classes AS c USING (principal)
  LEFT JOIN projects AS payer ON payer.project = n.billing_project
  LEFT JOIN data_owners AS o USING (job_id)
  LEFT JOIN split_costs AS s USING (job_id)
  LEFT JOIN job_labels AS lab USING (job_id)
  LEFT JOIN prices_in_force AS f
    ON f.item = n.price_item
    AND f.price_location = n.price_location
    AND f.price_day = n.price_day
),
-- pricebook.ts priceJob: the first rule that applies; each cost rounded once, half-up, to the nano-dollar.
ruled AS (
  SELECT
    *,
    IF(
      label_department IS NOT NULL AND principal_class.kind NOT IN ('external', 'partner'),
      STRUCT(label_department AS department, principal_class.kind, principal_class.partner, principal_class.project_number),
      principal_class
    ) AS consumer,
    CASE
      WHEN dry_run THEN STRUCT<model STRING, nanos INT64, basis STRING>('not_billed', 0, 'dry run: not billed')
      WHEN statement_type = 'SCRIPT' THEN STRUCT<model STRING, nanos INT64, basis STRING>('script_parent', 0, 'script parent: its child jobs carry the cost')
      WHEN cache_hit THEN STRUCT<model STRING, nanos INT64, basis STRING>('cache_hit', 0, 'served from cached results: not billed')
      WHEN split AND split_cost.mixed THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('reservationUsage mixes on-demand and reservation slots (', split_cost.logged, '): the bytes billed on demand cannot be split'))
      WHEN split AND split_cost.usage_slot_ms != slot_ms THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('reservationUsage slot-ms add up to ', CAST(split_cost.usage_slot_ms AS STRING), ', totalSlotMs is ', CAST(slot_ms AS STRING), ' (', split_cost.logged, '): Google\'s field "reported misleading information" (tiers of a reservation hierarchy repeat slot-ms), so it is not split'))
      WHEN split AND split_cost.unregistered IS NOT NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('reservation ', split_cost.unregistered, ' is not in the registry: add it under reservations with its edition'))
      WHEN split AND split_cost.unpriced_edition IS NOT NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('no ', split_cost.unpriced_edition, ' slot-hour price for ', IF(location = '', "the job's location", location), ' or US on ', CAST(price_day AS STRING), ': add one under prices.editions'))
      WHEN split THEN STRUCT<model STRING, nanos INT64, basis STRING>('reservation', split_cost.nanos, CONCAT('split as reservationUsage logged it: ', split_cost.basis))
      WHEN reserved AND edition IS NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('reservation ', reservation, ' is not in the registry: add it under reservations with its edition'))
      WHEN reserved AND price IS NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT('no ', edition, ' slot-hour price for ', IF(location = '', "the job's location", location), ' or US on ', CAST(price_day AS STRING), ': add one under prices.editions'))
      WHEN reserved THEN STRUCT<model STRING, nanos INT64, basis STRING>('reservation',
        CAST(ROUND(CAST(slot_ms AS BIGNUMERIC) * price.nanos / 3600000) AS INT64),
        CONCAT(edition, ' ', price_where, ' ', price_usd, ' USD/slot-hour (from ', CAST(price.from_date AS STRING), ') x ', CAST(slot_ms AS STRING), ' slot-ms'))
      WHEN job_type IN ('IMPORT', 'EXPORT', 'COPY') THEN STRUCT<model STRING, nanos INT64, basis STRING>('free_operation', 0, CONCAT(LOWER(job_type), ' job on the shared slot pool: free'))
      WHEN error_code IS NOT NULL AND NOT cancelled THEN STRUCT<model STRING, nanos INT64, basis STRING>('on_demand', 0, 'failed job: queries that return an error are not charged')
      WHEN NOT billed_bytes_present AND processed_bytes > 0 THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT(prefix, 'billed bytes hidden: totalBilledBytes absent though ', CAST(processed_bytes AS STRING), ' B were processed (row-level security hides it); not priceable from the log'))
      -- pricebook.ts modelCreationCost: BigQuery ML model creation at its model type's price, never a query's
      WHEN statement_type = 'CREATE_MODEL' AND model_type = '' THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT(prefix, 'CREATE_MODEL whose model type the log does not tell (no single OPTIONS(model_type=...) in a whole query text): BigQuery ML prices model creation per model type'))
      WHEN statement_type = 'CREATE_MODEL' AND price IS NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT(prefix, 'no ', model_type, ' model creation price for ', IF(location = '', "the job's location", location), ' or US on ', CAST(price_day AS STRING), ': add one under prices.model_creation'))
      WHEN statement_type = 'CREATE_MODEL' THEN STRUCT<model STRING, nanos INT64, basis STRING>('bqml',
        CAST(ROUND(CAST(billed_bytes AS BIGNUMERIC) * price.nanos / 1099511627776) AS INT64),
        CONCAT(prefix, 'BigQuery ML ', model_type, ' model creation ', price_where, ' ', price_usd, ' USD/TiB (from ', CAST(price.from_date AS STRING), ') x ', CAST(billed_bytes AS STRING), ' B'))
      WHEN price IS NULL THEN STRUCT<model STRING, nanos INT64, basis STRING>('unpriced', 0,
        CONCAT(prefix, 'no on-demand price for ', IF(location = '', "the job's location", location), ' or US on ', CAST(price_day AS STRING), ': add one under prices.on_demand'))
      ELSE STRUCT<model STRING, nanos INT64, basis STRING>('on_demand',
        CAST(ROUND(CAST(billed_bytes AS BIGNUMERIC) * price.nanos / 1099511627776) AS INT64),
        CONCAT(prefix, 'on-demand ', price_where, ' ', price_usd, ' USD/TiB (from ', CAST(price.from_date AS STRING), ') x ', CAST(billed_bytes AS STRING), ' B'))
    END AS pricing
  FROM priced
)
SELECT
  job_id,
  billing_project,
  location,
  principal,
  payer_department,
  consumer.department AS consumer_department,
  data_projects,
  statement_type,
  billed_bytes,
  slot_ms,
  pricing.model AS pricing_model,
  CAST(pricing.nanos AS NUMERIC) / 1000000000 AS compute_cost_usd,
  end_time,
  -- detect.ts detectJobFindings: script parents carry none (their children are checked).
  ARRAY(
    SELECT kind
    FROM UNNEST([
      IF(billing_project_kind = 'unregistered', 'unregistered_project', NULL),
      IF(consumer.project_number IS NOT NULL, 'unregistered_project_number', NULL),
      IF(consumer.kind IN ('external', 'partner'), 'external_free_ride', NULL),
      -- a finding judges the principal's grant, whatever department a label charges
      IF(
        consumer.kind IN ('registered', 'service_account') AND billing_project_kind = 'department'
          AND principal_class.department != payer_department,
        'cross_department_free_ride',
        NULL
      )
    ]) AS kind
    WHERE kind IS NOT NULL AND pricing.model != 'script_parent'
    ORDER BY kind
  ) AS findings,
  usage_date,
  consumer.kind AS principal_kind,
  data_owner_departments,
  job_type,
  processed_bytes,
  reservation,
  cache_hit,
  error_code,
  parent_job_id,
  audit_format,
  pricing.basis AS pricing_basis,
  billing_project_kind,
  consumer.partner AS partner,
  consumer.project_number AS agent_project_number,
  -- the principal's own department: findings name its grant (a label may charge another)
  principal_class.department AS principal_department,
  registry_version
FROM ruled
