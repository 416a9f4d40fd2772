-- Step 8: what this run read and with which registry version, for reports to cite.
INSERT INTO sink_runs (run_time, window_start, window_end, registry_version, jobs, table_reads, rejected)
SELECT
  @run_time,
  TIMESTAMP_SUB(TIMESTAMP_TRUNC(@run_time, DAY), INTERVAL 3 DAY),
  @run_time,
  (SELECT registry_version FROM current_registry),
  (SELECT COUNT(*) FROM priced_jobs),
  (SELECT COUNT(*) FROM sink_entries WHERE entry_kind = 'table_read'),
  (SELECT COUNT(*) FROM sink_entries WHERE entry_kind = 'rejected')
