-- The price book of src/core/pricebook.ts with the registry's prices merged over it, one row per
-- figure: a series is (item, location), the price in force is the newest from_date on or before
-- the day, else the US one. Written from src/core/registry-tables.ts (priceBookRows) by
-- `registry push` for the sink pipeline and by each scheduled report for storage_costs, so SQL
-- prices with the figures TypeScript uses.
CREATE TABLE IF NOT EXISTS price_book (
  registry_version STRING NOT NULL,
  item STRING OPTIONS (description = 'on_demand_per_tib, EDITION_per_slot_hour, storage_CLASS_per_gib_month'),
  location STRING OPTIONS (description = 'normalised: us, eu, europe-west1'),
  from_date DATE,
  nanos INT64 OPTIONS (description = 'nano-dollars per unit'),
  source STRING
)
CLUSTER BY registry_version, item
OPTIONS (description = 'bq-chargeback: prices of each registry version, each with its source');
