-- Claims a run's alerts for one delivery of its notification: the first claim of a run time
-- wins. BigQuery runs UPDATEs of one table one after the other, so of two deliveries at the same
-- moment only one finds the run unclaimed. Parameters: @run_time TIMESTAMP, @claim STRING (this
-- delivery's own random id), @alerts INT64 (how many alert lines it is about to write).
UPDATE sink_runs
SET alerts_claim = @claim, alerts_claimed_at = CURRENT_TIMESTAMP(), alerts = @alerts
WHERE run_time = @run_time
  AND NOT EXISTS (
    SELECT 1 FROM sink_runs AS claimed
    WHERE claimed.run_time = @run_time AND claimed.alerts_claim IS NOT NULL
  )
