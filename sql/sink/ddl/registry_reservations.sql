CREATE TABLE IF NOT EXISTS registry_reservations (
  registry_version STRING NOT NULL,
  reservation STRING OPTIONS (description = 'canonical: projects/P/locations/l/reservations/R'),
  edition STRING
)
CLUSTER BY registry_version
OPTIONS (description = 'bq-chargeback: reservations and their editions of each registry version');
