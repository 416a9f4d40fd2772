-- Storage cost per period, department, project, dataset and billing model (docs/tables.md):
-- each table's month cost rounded once to the nano-dollar, then its share of the days of the
-- period inside [from, to], rounded once more, exactly as src/core (priceStorageMonth, prorate).
-- Prices come from the price_book rows of @registry_version, which the run writes from the
-- TypeScript price book: the price in force on the period's month's first day at the table's
-- own location; a table at a location without one is unpriced (0, counted in unpriced_tables),
-- never priced at US rates. A deleted table costs nothing with logical billing and its physical
-- bytes (time travel, fail-safe) with physical billing, as Google's forecast query in the
-- TABLE_STORAGE docs (https://cloud.google.com/bigquery/docs/information-schema-table-storage).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING, @snapshot_date DATE,
-- @registry_version STRING, @project_departments ARRAY<STRUCT<project STRING, department STRING>>.
WITH days AS (
  SELECT
    IF(@granularity = 'month', FORMAT_DATE('%Y-%m', day), FORMAT_DATE('%Y-%m-%d', day)) AS period,
    day
  FROM UNNEST(GENERATE_DATE_ARRAY(@from_date, @to_date)) AS day
),
periods AS (
  SELECT
    period,
    COUNT(*) AS days,
    DATE_TRUNC(MIN(day), MONTH) AS month_start,
    EXTRACT(DAY FROM LAST_DAY(MIN(day), MONTH)) AS days_in_month
  FROM days
  GROUP BY period
),
storage_prices AS (
  SELECT
    location,
    from_date,
    MAX(IF(item = 'storage_active_logical_per_gib_month', nanos, NULL)) AS active_logical,
    MAX(IF(item = 'storage_long_term_logical_per_gib_month', nanos, NULL)) AS long_term_logical,
    MAX(IF(item = 'storage_active_physical_per_gib_month', nanos, NULL)) AS active_physical,
    MAX(IF(item = 'storage_long_term_physical_per_gib_month', nanos, NULL)) AS long_term_physical
  FROM price_book
  WHERE registry_version = @registry_version AND STARTS_WITH(item, 'storage_')
  GROUP BY location, from_date
),
table_periods AS (
  SELECT
    periods.period,
    periods.days,
    periods.days_in_month,
    t.*,
    (
      -- the table's location (normalised as the price book's: lower case, no region- prefix)
      SELECT AS STRUCT p.*
      FROM storage_prices AS p
      WHERE p.from_date <= periods.month_start
        AND p.location = REGEXP_REPLACE(LOWER(TRIM(t.location)), r'^region-', '')
      ORDER BY p.from_date DESC
      LIMIT 1
    ) AS price
  FROM periods
  CROSS JOIN table_storage_snapshots AS t
  WHERE t.snapshot_date = @snapshot_date
),
table_costs AS (
  SELECT
    *,
    COALESCE(
      ROUND(
        IF(
          storage_billing_model = 'PHYSICAL',
          CAST(active_physical_bytes + fail_safe_physical_bytes AS BIGNUMERIC) * price.active_physical
            + CAST(long_term_physical_bytes AS BIGNUMERIC) * price.long_term_physical,
          IF(
            COALESCE(deleted, FALSE),
            0,
            CAST(active_logical_bytes AS BIGNUMERIC) * price.active_logical
              + CAST(long_term_logical_bytes AS BIGNUMERIC) * price.long_term_logical
          )
        ) / 1073741824
      ),
      0
    ) AS month_nanos
  FROM table_periods
)
SELECT
  table_costs.period,
  COALESCE(owner.department, 'unassigned') AS department,
  table_costs.project_id,
  table_costs.table_schema AS dataset,
  table_costs.storage_billing_model AS billing_model,
  CAST(SUM(ROUND(table_costs.month_nanos * table_costs.days / table_costs.days_in_month)) / 1000000000 AS NUMERIC) AS storage_usd,
  COUNTIF(table_costs.price IS NULL) AS unpriced_tables
FROM table_costs
LEFT JOIN UNNEST(@project_departments) AS owner ON owner.project = table_costs.project_id
GROUP BY period, department, project_id, dataset, billing_model
ORDER BY period, department, project_id, dataset, billing_model
