-- Step 2: the registry version this run attributes and prices with: the newest pushed
-- (bq-chargeback registry push). sink_runs records it.
CREATE TEMP TABLE current_registry AS
SELECT registry_version, time_zone, domains
FROM registry_versions
ORDER BY pushed_at DESC, registry_version DESC
LIMIT 1
