-- Whether the pipeline recorded a run at @run_time (50_sink_runs.sql), and whether @claim holds
-- its alerts. Read after the claim: a claim whose answer was lost is still known here.
SELECT COUNT(*) AS runs, COALESCE(LOGICAL_OR(alerts_claim = @claim), FALSE) AS claimed_here
FROM sink_runs
WHERE run_time = @run_time
