-- Job labels that name a consumer department (registry label_keys and departments' labels), as
-- compiled by src/core/registry.ts: of the labels a job carries, the lowest key_rank wins.
CREATE TABLE IF NOT EXISTS registry_labels (
  registry_version STRING NOT NULL,
  label_key STRING,
  label_value STRING,
  department STRING,
  key_rank INT64 OPTIONS (description = 'position of the key in label_keys: the first listed wins')
)
CLUSTER BY registry_version
OPTIONS (description = 'bq-chargeback: job labels and the departments they name, of each registry version');
