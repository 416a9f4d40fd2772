CREATE TABLE IF NOT EXISTS registry_departments (
  registry_version STRING NOT NULL,
  department STRING,
  name STRING,
  position INT64
)
CLUSTER BY registry_version
OPTIONS (description = 'bq-chargeback: departments of each registry version');
