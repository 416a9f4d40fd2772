-- Storage cost per period, department, project, dataset and billing model (docs/tables.md):
-- each table's month cost rounded once to the nano-dollar, then its share of the days of the
-- period inside [from, to], rounded once more, exactly as src/core (priceStorageMonth, prorate).
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING, @snapshot_date DATE,
-- @project_departments ARRAY<STRUCT<project STRING, department STRING>> (from the registry),
-- storage prices of the snapshot's location in nano-dollars per GiB-month:
-- @p_active_logical, @p_long_term_logical, @p_active_physical, @p_long_term_physical INT64.
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
    EXTRACT(DAY FROM LAST_DAY(MIN(day), MONTH)) AS days_in_month
  FROM days
  GROUP BY period
),
tables AS (
  SELECT
    *,
    ROUND(
      IF(
        storage_billing_model = 'PHYSICAL',
        CAST(active_physical_bytes + fail_safe_physical_bytes AS BIGNUMERIC) * @p_active_physical
          + CAST(long_term_physical_bytes AS BIGNUMERIC) * @p_long_term_physical,
        CAST(active_logical_bytes AS BIGNUMERIC) * @p_active_logical
          + CAST(long_term_logical_bytes AS BIGNUMERIC) * @p_long_term_logical
      ) / 1073741824
    ) AS month_nanos
  FROM table_storage_snapshots
  WHERE snapshot_date = @snapshot_date
)
SELECT
  periods.period,
  COALESCE(owner.department, 'unassigned') AS department,
  tables.project_id,
  tables.table_schema AS dataset,
  tables.storage_billing_model AS billing_model,
  CAST(SUM(ROUND(tables.month_nanos * periods.days / periods.days_in_month)) / 1000000000 AS NUMERIC) AS storage_usd
FROM periods
CROSS JOIN tables
LEFT JOIN UNNEST(@project_departments) AS owner ON owner.project = tables.project_id
GROUP BY period, department, project_id, dataset, billing_model
ORDER BY period, department, project_id, dataset, billing_model
