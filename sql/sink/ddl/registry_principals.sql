-- Principals and patterns as compiled by src/core/registry.ts: exact (lower-case email, or a
-- principal:// subject as written), domain (*@DOMAIN), subdomain (*.DOMAIN), glob (RE2 regex).
CREATE TABLE IF NOT EXISTS registry_principals (
  registry_version STRING NOT NULL,
  match_kind STRING,
  match_key STRING,
  regex STRING,
  department STRING,
  specificity INT64 OPTIONS (description = 'literal characters: the most specific pattern wins'),
  rule_order INT64 OPTIONS (description = 'position in the file: the earlier wins a tie')
)
CLUSTER BY registry_version, match_kind
OPTIONS (description = 'bq-chargeback: principals and patterns of each registry version');
