-- One row per run of the sink pipeline: which window of the sink it read, with which registry,
-- and whether its alerts were raised (src/cloud/sink-alerts.ts claims the run once: alerts_claim
-- names the one delivery of the run's notification that wrote the alert lines).
CREATE TABLE IF NOT EXISTS sink_runs (
  run_time TIMESTAMP NOT NULL,
  window_start TIMESTAMP,
  window_end TIMESTAMP,
  registry_version STRING,
  jobs INT64,
  table_reads INT64,
  rejected INT64,
  alerts_claim STRING,
  alerts_claimed_at TIMESTAMP,
  alerts INT64
)
PARTITION BY DATE(run_time)
OPTIONS (description = 'bq-chargeback: runs of the scheduled sink pipeline');
