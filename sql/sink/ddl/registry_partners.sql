CREATE TABLE IF NOT EXISTS registry_partners (
  registry_version STRING NOT NULL,
  partner STRING,
  match_kind STRING OPTIONS (description = 'domain or billing_project'),
  value STRING
)
CLUSTER BY registry_version
OPTIONS (description = 'bq-chargeback: partner domains and billing projects of each registry version');
