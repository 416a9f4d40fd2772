-- The price book the reports price with: written by each report run from the registry's price
-- book (the built-in list prices with its `prices:` overrides), so SQL and TypeScript price with
-- the same figures. Compute prices are here too, for reports that price jobs inside BigQuery.
CREATE TABLE IF NOT EXISTS price_book (
  kind STRING NOT NULL OPTIONS (description = 'on_demand, edition or storage'),
  edition STRING OPTIONS (description = 'standard, enterprise or enterprise_plus (kind edition)'),
  storage_class STRING OPTIONS (description = 'active_logical, long_term_logical, active_physical or long_term_physical (kind storage)'),
  location STRING NOT NULL OPTIONS (description = 'lower case: us, eu, europe-west1'),
  from_date DATE NOT NULL OPTIONS (description = 'first day the price applies'),
  nanos INT64 NOT NULL OPTIONS (description = 'nano-dollars per TiB billed (on_demand), slot-hour (edition) or GiB-month (storage)'),
  source STRING OPTIONS (description = 'where the figure comes from')
)
OPTIONS (description = 'bq-chargeback: list prices by location and date, with the registry overrides');
