-- One row per `bq-chargeback registry push`: the sink pipeline prices with the newest version and
-- records in sink_runs which one it used. Versions are content hashes: pushing the same registry
-- twice gives the same version.
CREATE TABLE IF NOT EXISTS registry_versions (
  registry_version STRING NOT NULL OPTIONS (description = 'sha256 of the registry rows'),
  pushed_at TIMESTAMP,
  source STRING OPTIONS (description = 'the registry file or gs:// object pushed'),
  time_zone STRING OPTIONS (description = 'IANA zone of billing days'),
  domains ARRAY<STRING>
)
OPTIONS (description = 'bq-chargeback: registry versions pushed');
