-- The Cloud Billing export shared out to departments (src/core/billing/reconcile.ts, in SQL):
-- each BigQuery charge of a billing day, project and SKU is split by what the departments used
-- in job_costs (bytes billed on demand; slot-ms in the reservation that day, idle slots pro rata
-- or to the admin project's department), else given to the project's department with a reason;
-- then each period is rounded once to the currency's minor unit by largest remainder, so the
-- lines add up to the export's total. Amounts are exact: FLOAT64 costs are read as NUMERIC.
-- Reads the export through the view billing_export (the standard usage cost table's columns).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING ('month' or 'day'),
-- @time_zone STRING (billing days), @project_departments ARRAY<STRUCT<project STRING,
-- department STRING>> (every registered project), @reservations ARRAY<STRUCT<name STRING,
-- admin_project STRING, location STRING, idle_policy STRING>> (canonical names, registry order).
WITH charges AS (
  SELECT
    DATE(usage_start_time, @time_zone) AS day,
    billing_account_id,
    IFNULL(project.id, '') AS billing_project,
    IFNULL(service.id, '') AS service_id,
    service.description AS service_description,
    IFNULL(sku.id, '') AS sku_id,
    sku.description AS sku_description,
    IFNULL(COALESCE(location.location, location.region), '') AS location,
    IFNULL(cost_type, 'regular') AS cost_type,
    currency,
    usage_start_time,
    usage_end_time,
    CAST(cost AS NUMERIC) AS cost,
    CAST(cost AS NUMERIC) + IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0) AS net,
    CAST(IFNULL(cost_at_list, cost) AS NUMERIC) AS list,
    IFNULL(CAST(usage.amount_in_pricing_units AS NUMERIC), 0) AS pricing_quantity,
    usage.pricing_unit AS pricing_unit,
    -- slot-ms of capacity in a reservation row's usage.amount; NULL when the unit is not slot time
    CAST(ROUND(CAST(usage.amount AS NUMERIC) * CASE REGEXP_REPLACE(LOWER(IFNULL(usage.unit, '')), r'^slot[- ]?', '')
      WHEN 'milliseconds' THEN 1 WHEN 'ms' THEN 1
      WHEN 'seconds' THEN 1000 WHEN 'second' THEN 1000 WHEN 's' THEN 1000
      WHEN 'hours' THEN 3600000 WHEN 'hour' THEN 3600000 WHEN 'h' THEN 3600000
    END) AS INT64) AS slot_ms
  FROM billing_export
  WHERE REGEXP_CONTAINS(service.description, r'(?i)^\s*bigquery\b')
    AND DATE(usage_start_time, @time_zone) BETWEEN @from_date AND @to_date
),
charge_groups AS (
  SELECT
    IF(@granularity = 'month', FORMAT_DATE('%Y-%m', day), FORMAT_DATE('%Y-%m-%d', day)) AS period,
    -- storage and other project-bound SKUs: one charge per period (its first day), rounded once
    MIN(day) AS day,
    billing_account_id,
    billing_project,
    service_id,
    ANY_VALUE(service_description) AS service_description,
    sku_id,
    sku_description,
    CASE
      WHEN REGEXP_CONTAINS(LOWER(sku_description), r'\bedition\b|\bcommitment\b|\bflat[ -]rate\b|\bslots?\b') THEN 'reservation'
      WHEN REGEXP_CONTAINS(LOWER(sku_description), r'\banalysis\b') AND NOT STRPOS(LOWER(sku_description), 'bi engine') > 0 THEN 'on_demand_analysis'
      WHEN REGEXP_CONTAINS(LOWER(sku_description), r'\bstorage\b')
        AND NOT REGEXP_CONTAINS(LOWER(sku_description), r'storage api|read api|write api')
        AND NOT STRPOS(LOWER(ANY_VALUE(service_description)), 'api') > 0 THEN 'storage'
      ELSE 'other'
    END AS sku_group,
    location,
    cost_type,
    ANY_VALUE(currency) AS currency,
    MIN(usage_start_time) AS start_time,
    MAX(usage_end_time) AS end_time,
    CAST(SUM(net) * 1000000000 AS INT64) AS net,
    CAST(SUM(list) * 1000000000 AS INT64) AS list,
    CAST(SUM(cost) * 1000000000 AS INT64) AS cost,
    CAST(SUM(pricing_quantity) * 1000000000 AS INT64) AS pricing_quantity,
    ANY_VALUE(pricing_unit) AS pricing_unit,
    IF(COUNTIF(slot_ms IS NULL) > 0, NULL, SUM(slot_ms)) AS capacity_slot_ms
  FROM charges
  GROUP BY
    IF(
      REGEXP_CONTAINS(LOWER(sku_description), r'\bedition\b|\bcommitment\b|\bflat[ -]rate\b|\bslots?\b')
        OR (REGEXP_CONTAINS(LOWER(sku_description), r'\banalysis\b') AND NOT STRPOS(LOWER(sku_description), 'bi engine') > 0),
      FORMAT_DATE('%Y-%m-%d', day),
      IF(@granularity = 'month', FORMAT_DATE('%Y-%m', day), FORMAT_DATE('%Y-%m-%d', day))),
    period, billing_account_id, billing_project, service_id, sku_id, sku_description, location, cost_type
),
numbered AS (
  -- the order of src/core/billing/reconcile.ts compareGroups: ties in the rounding go to the earlier
  SELECT *, ROW_NUMBER() OVER (ORDER BY period, day, billing_account_id, billing_project, service_id, sku_id, sku_description, location, cost_type) AS group_seq
  FROM charge_groups
),
jobs AS (
  -- include: common/job_costs_once.sql
),
reserved_jobs AS (
  -- reservation names as canonicalReservation writes them: projects/P/locations/l/reservations/R
  SELECT
    usage_date AS day,
    consumer_department AS department,
    slot_ms,
    IF(
      REGEXP_CONTAINS(TRIM(reservation), r'^[^:/]+:[^./]+\.[^/]+$'),
      FORMAT('projects/%s/locations/%s/reservations/%s',
        REGEXP_EXTRACT(TRIM(reservation), r'^([^:/]+):'),
        REGEXP_REPLACE(LOWER(REGEXP_EXTRACT(TRIM(reservation), r'^[^:/]+:([^./]+)\.')), r'^region-', ''),
        REGEXP_EXTRACT(TRIM(reservation), r'^[^:/]+:[^./]+\.(.+)$')),
      IF(
        REGEXP_CONTAINS(TRIM(reservation), r'^projects/[^/]+/locations/[^/]+/reservations/[^/]+$'),
        FORMAT('projects/%s/locations/%s/reservations/%s',
          REGEXP_EXTRACT(TRIM(reservation), r'^projects/([^/]+)/'),
          REGEXP_REPLACE(LOWER(REGEXP_EXTRACT(TRIM(reservation), r'/locations/([^/]+)/')), r'^region-', ''),
          REGEXP_EXTRACT(TRIM(reservation), r'/reservations/([^/]+)$')),
        TRIM(reservation))) AS reservation
  FROM jobs
  WHERE pricing_model = 'reservation'
),
candidates AS (
  -- the registry's reservations a reservation charge can be for: same admin project and location
  SELECT g.group_seq, r.name, r.idle_policy, offset
  FROM numbered AS g
  JOIN UNNEST(@reservations) AS r WITH OFFSET AS offset
    ON g.sku_group = 'reservation'
    AND r.admin_project = g.billing_project
    AND (g.location = '' OR r.location = REGEXP_REPLACE(LOWER(TRIM(g.location)), r'^region-', ''))
),
policies AS (
  SELECT group_seq, ARRAY_AGG(idle_policy ORDER BY offset LIMIT 1)[OFFSET(0)] AS idle_policy
  FROM candidates
  GROUP BY group_seq
),
weights AS (
  -- each department's use behind a charge: bytes billed on demand, slot-ms in the reservation(s)
  SELECT g.group_seq, j.consumer_department AS department, SUM(j.billed_bytes) AS weight
  FROM numbered AS g
  JOIN jobs AS j ON g.sku_group = 'on_demand_analysis' AND j.pricing_model = 'on_demand'
    AND j.usage_date = g.day AND j.billing_project = g.billing_project
  GROUP BY g.group_seq, department
  HAVING weight > 0
  UNION ALL
  SELECT c.group_seq, j.department, SUM(j.slot_ms) AS weight
  FROM candidates AS c
  JOIN numbered AS g USING (group_seq)
  JOIN reserved_jobs AS j ON j.reservation = c.name AND j.day = g.day
  GROUP BY c.group_seq, j.department
  HAVING weight > 0
),
used AS (
  SELECT group_seq, SUM(weight) AS used_slot_ms FROM weights GROUP BY group_seq
),
owners AS (
  SELECT
    g.group_seq,
    IFNULL(p.department, 'unassigned') AS department,
    p.department IS NULL AS unregistered
  FROM numbered AS g
  LEFT JOIN UNNEST(@project_departments) AS p ON p.project = g.billing_project
),
-- Stage 1: a reservation charge with users splits into its used and idle parts; every other
-- charge is one part. Each part then goes to departments by weights, or to one department.
parts AS (
  SELECT
    g.*,
    o.department AS owner,
    o.unregistered,
    pol.idle_policy,
    u.used_slot_ms,
    IF(g.sku_group = 'reservation' AND u.used_slot_ms IS NOT NULL,
      GREATEST(IFNULL(g.capacity_slot_ms, 0), u.used_slot_ms), NULL) AS capacity
  FROM numbered AS g
  JOIN owners AS o USING (group_seq)
  LEFT JOIN policies AS pol USING (group_seq)
  LEFT JOIN used AS u USING (group_seq)
),
two_way AS (
  -- used : idle = used slot-ms : (capacity - used), exact, the leftover unit to the larger remainder (used on a tie)
  SELECT
    p.*,
    part,
    IF(part = 0, used_slot_ms, capacity - used_slot_ms) AS part_weight
  FROM parts AS p, UNNEST([0, 1]) AS part
  WHERE p.sku_group = 'reservation' AND p.used_slot_ms IS NOT NULL
    AND (part = 0 OR p.capacity > p.used_slot_ms)
),
two_way_split AS (
  SELECT
    * EXCEPT (net, list, cost, pricing_quantity),
    net AS group_net,
    CAST(FLOOR(CAST(net AS BIGNUMERIC) * part_weight / capacity) AS INT64) AS net_floor,
    CAST(net AS BIGNUMERIC) * part_weight - FLOOR(CAST(net AS BIGNUMERIC) * part_weight / capacity) * capacity AS net_rem,
    list AS group_list,
    CAST(FLOOR(CAST(list AS BIGNUMERIC) * part_weight / capacity) AS INT64) AS list_floor,
    CAST(list AS BIGNUMERIC) * part_weight - FLOOR(CAST(list AS BIGNUMERIC) * part_weight / capacity) * capacity AS list_rem,
    cost AS group_cost,
    CAST(FLOOR(CAST(cost AS BIGNUMERIC) * part_weight / capacity) AS INT64) AS cost_floor,
    CAST(cost AS BIGNUMERIC) * part_weight - FLOOR(CAST(cost AS BIGNUMERIC) * part_weight / capacity) * capacity AS cost_rem,
    pricing_quantity AS group_quantity,
    CAST(FLOOR(CAST(pricing_quantity AS BIGNUMERIC) * part_weight / capacity) AS INT64) AS quantity_floor,
    CAST(pricing_quantity AS BIGNUMERIC) * part_weight - FLOOR(CAST(pricing_quantity AS BIGNUMERIC) * part_weight / capacity) * capacity AS quantity_rem
  FROM two_way
),
two_way_parts AS (
  SELECT
    * EXCEPT (net_floor, net_rem, list_floor, list_rem, cost_floor, cost_rem, quantity_floor, quantity_rem),
    net_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq ORDER BY net_rem DESC, part) <= group_net - SUM(net_floor) OVER (PARTITION BY group_seq), 1, 0) AS net,
    list_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq ORDER BY list_rem DESC, part) <= group_list - SUM(list_floor) OVER (PARTITION BY group_seq), 1, 0) AS list,
    cost_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq ORDER BY cost_rem DESC, part) <= group_cost - SUM(cost_floor) OVER (PARTITION BY group_seq), 1, 0) AS cost,
    quantity_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq ORDER BY quantity_rem DESC, part) <= group_quantity - SUM(quantity_floor) OVER (PARTITION BY group_seq), 1, 0) AS pricing_quantity
  FROM two_way_split
),
shares AS (
  -- (part, department, weight) for every line; a part with one department takes weight 1
  -- reservation used part, and idle part pro rata: by the departments' slot-ms
  SELECT t.group_seq, t.part, w.department, w.weight, 'jobs' AS basis, CAST(NULL AS STRING) AS reason,
    IF(t.part = 0, 'Used', 'Unused') AS capacity_status, t.net, t.list, t.cost, t.pricing_quantity
  FROM two_way_parts AS t
  JOIN weights AS w USING (group_seq)
  WHERE t.part = 0 OR t.idle_policy = 'pro_rata'
  UNION ALL
  -- reservation idle part to the admin project's department
  SELECT t.group_seq, t.part, t.owner, 1, 'idle_to_admin', 'idle_to_admin_department', 'Unused', t.net, t.list, t.cost, t.pricing_quantity
  FROM two_way_parts AS t
  WHERE t.part = 1 AND t.idle_policy = 'admin_department'
  UNION ALL
  -- on-demand analysis with users in the logs that day
  SELECT p.group_seq, 0, w.department, w.weight, 'jobs', NULL, NULL, p.net, p.list, p.cost, p.pricing_quantity
  FROM parts AS p
  JOIN weights AS w USING (group_seq)
  WHERE p.sku_group = 'on_demand_analysis'
  UNION ALL
  -- everything else: one department, by rule, with the reason
  SELECT
    p.group_seq, 0, p.owner, 1,
    CASE
      WHEN p.sku_group = 'reservation' AND p.idle_policy IS NOT NULL
        THEN IF(p.idle_policy = 'admin_department', 'idle_to_admin', 'unattributed')
      WHEN p.unregistered OR p.billing_project = '' THEN 'unattributed'
      WHEN p.sku_group IN ('storage', 'other') THEN 'project_owner'
      ELSE 'unattributed'
    END,
    CASE
      WHEN p.sku_group = 'reservation' AND p.idle_policy IS NOT NULL
        THEN IF(p.idle_policy = 'admin_department', 'idle_to_admin_department', 'reservation_idle_no_jobs_that_day')
      WHEN p.billing_project = '' THEN 'no_project'
      WHEN p.unregistered THEN 'project_not_in_registry'
      WHEN p.sku_group = 'reservation' THEN 'reservation_not_in_registry'
      WHEN p.sku_group = 'storage' THEN 'storage_of_project'
      WHEN p.sku_group = 'other' THEN 'other_sku_of_project'
      ELSE 'no_jobs_seen'
    END,
    IF(p.sku_group = 'reservation' AND p.idle_policy IS NOT NULL, 'Unused', NULL),
    p.net, p.list, p.cost, p.pricing_quantity
  FROM parts AS p
  WHERE p.group_seq NOT IN (SELECT group_seq FROM weights)
),
share_split AS (
  SELECT
    s.*,
    SUM(weight) OVER (PARTITION BY group_seq, part) AS total_weight,
    ROW_NUMBER() OVER (PARTITION BY group_seq, part ORDER BY department) AS seq
  FROM shares AS s
),
share_floor AS (
  SELECT
    * EXCEPT (net, list, cost, pricing_quantity),
    net AS part_net, list AS part_list, cost AS part_cost, pricing_quantity AS part_quantity,
    CAST(FLOOR(CAST(net AS BIGNUMERIC) * weight / total_weight) AS INT64) AS net_floor,
    CAST(net AS BIGNUMERIC) * weight - FLOOR(CAST(net AS BIGNUMERIC) * weight / total_weight) * total_weight AS net_rem,
    CAST(FLOOR(CAST(list AS BIGNUMERIC) * weight / total_weight) AS INT64) AS list_floor,
    CAST(list AS BIGNUMERIC) * weight - FLOOR(CAST(list AS BIGNUMERIC) * weight / total_weight) * total_weight AS list_rem,
    CAST(FLOOR(CAST(cost AS BIGNUMERIC) * weight / total_weight) AS INT64) AS cost_floor,
    CAST(cost AS BIGNUMERIC) * weight - FLOOR(CAST(cost AS BIGNUMERIC) * weight / total_weight) * total_weight AS cost_rem,
    CAST(FLOOR(CAST(pricing_quantity AS BIGNUMERIC) * weight / total_weight) AS INT64) AS quantity_floor,
    CAST(pricing_quantity AS BIGNUMERIC) * weight - FLOOR(CAST(pricing_quantity AS BIGNUMERIC) * weight / total_weight) * total_weight AS quantity_rem
  FROM share_split
),
lines AS (
  SELECT
    group_seq, part, seq, department, basis, reason, capacity_status,
    net_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq, part ORDER BY net_rem DESC, seq) <= part_net - SUM(net_floor) OVER (PARTITION BY group_seq, part), 1, 0) AS net,
    list_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq, part ORDER BY list_rem DESC, seq) <= part_list - SUM(list_floor) OVER (PARTITION BY group_seq, part), 1, 0) AS list,
    cost_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq, part ORDER BY cost_rem DESC, seq) <= part_cost - SUM(cost_floor) OVER (PARTITION BY group_seq, part), 1, 0) AS cost,
    quantity_floor + IF(ROW_NUMBER() OVER (PARTITION BY group_seq, part ORDER BY quantity_rem DESC, seq) <= part_quantity - SUM(quantity_floor) OVER (PARTITION BY group_seq, part), 1, 0) AS pricing_quantity
  FROM share_floor
),
with_unit AS (
  SELECT
    l.*,
    g.period, g.day, g.billing_account_id, g.billing_project, g.service_description, g.sku_id, g.sku_description,
    g.sku_group, g.location, g.cost_type, g.currency, g.start_time, g.end_time, g.pricing_unit,
    -- nano-units per minor unit of the currency (ISO 4217; src/core/billing/amount.ts)
    CASE
      WHEN g.currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 1000000000
      WHEN g.currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 1000000
      ELSE 10000000
    END AS unit,
    ROW_NUMBER() OVER (ORDER BY l.group_seq, l.part, l.seq) AS line_seq
  FROM lines AS l
  JOIN numbered AS g USING (group_seq)
),
minor AS (
  -- one largest-remainder rounding per period: the lines' minor units sum to the period's total
  SELECT
    *,
    DIV(net, unit) - IF(MOD(net, unit) < 0, 1, 0) AS net_floor,
    MOD(MOD(net, unit) + unit, unit) AS net_rem,
    DIV(list, unit) - IF(MOD(list, unit) < 0, 1, 0) AS list_floor,
    MOD(MOD(list, unit) + unit, unit) AS list_rem,
    DIV(cost, unit) - IF(MOD(cost, unit) < 0, 1, 0) AS cost_floor,
    MOD(MOD(cost, unit) + unit, unit) AS cost_rem
  FROM with_unit
),
totals AS (
  SELECT
    period,
    -- the period's exact total rounded half away from zero to whole minor units
    CAST(ROUND(CAST(SUM(net) AS NUMERIC) / ANY_VALUE(unit)) AS INT64) - SUM(net_floor) AS net_left,
    CAST(ROUND(CAST(SUM(list) AS NUMERIC) / ANY_VALUE(unit)) AS INT64) - SUM(list_floor) AS list_left,
    CAST(ROUND(CAST(SUM(cost) AS NUMERIC) / ANY_VALUE(unit)) AS INT64) - SUM(cost_floor) AS cost_left
  FROM minor
  GROUP BY period
)
SELECT
  m.period,
  m.day,
  m.billing_account_id,
  m.billing_project,
  m.service_description,
  m.sku_id,
  m.sku_description,
  m.sku_group,
  m.location,
  m.cost_type,
  m.department,
  m.basis,
  m.reason,
  m.capacity_status,
  m.currency,
  m.start_time,
  m.end_time,
  CAST(m.net AS NUMERIC) / 1000000000 AS net,
  CAST(m.list AS NUMERIC) / 1000000000 AS list,
  CAST(m.cost AS NUMERIC) / 1000000000 AS cost,
  CAST(m.pricing_quantity AS NUMERIC) / 1000000000 AS pricing_quantity,
  m.pricing_unit,
  CAST((m.net_floor + IF(ROW_NUMBER() OVER (PARTITION BY m.period ORDER BY m.net_rem DESC, m.line_seq) <= t.net_left, 1, 0)) * m.unit AS NUMERIC) / 1000000000 AS net_allocated,
  CAST((m.list_floor + IF(ROW_NUMBER() OVER (PARTITION BY m.period ORDER BY m.list_rem DESC, m.line_seq) <= t.list_left, 1, 0)) * m.unit AS NUMERIC) / 1000000000 AS list_allocated,
  CAST((m.cost_floor + IF(ROW_NUMBER() OVER (PARTITION BY m.period ORDER BY m.cost_rem DESC, m.line_seq) <= t.cost_left, 1, 0)) * m.unit AS NUMERIC) / 1000000000 AS cost_allocated
FROM minor AS m
JOIN totals AS t USING (period)
ORDER BY m.line_seq
