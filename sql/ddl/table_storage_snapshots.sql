CREATE TABLE IF NOT EXISTS table_storage_snapshots (
  snapshot_date DATE NOT NULL,
  location STRING OPTIONS (description = 'region of the INFORMATION_SCHEMA view the row came from'),
  project_id STRING,
  table_schema STRING,
  table_name STRING,
  storage_billing_model STRING OPTIONS (description = 'LOGICAL or PHYSICAL, from SCHEMATA_OPTIONS'),
  active_logical_bytes INT64,
  long_term_logical_bytes INT64,
  active_physical_bytes INT64,
  long_term_physical_bytes INT64,
  time_travel_physical_bytes INT64,
  fail_safe_physical_bytes INT64,
  deleted BOOL OPTIONS (description = 'TABLE_STORAGE.deleted: dropped, still in time travel or fail-safe')
)
PARTITION BY snapshot_date
CLUSTER BY project_id
OPTIONS (description = 'bq-chargeback: INFORMATION_SCHEMA.TABLE_STORAGE snapshots of the registered projects');
