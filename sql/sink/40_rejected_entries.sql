-- Step 7: entries the parser rejects, kept with the reason and the entry as the sink holds it;
-- one row per log entry (logName and insertId), so a re-run writes nothing.
MERGE rejected_entries AS t
USING (
  SELECT s.receive_time AS received_at, s.source, s.reason, s.detail, s.raw
  FROM (
    SELECT *, CONCAT('sink:', log_name, ':', insert_id) AS source
    FROM sink_entries
    WHERE entry_kind = 'rejected'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY log_name, insert_id ORDER BY receive_time) = 1
  ) AS s
  LEFT JOIN (
    SELECT source FROM rejected_entries WHERE DATE(received_at) >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
  ) AS old
    USING (source)
  WHERE old.source IS NULL
) AS s
ON t.source = s.source AND DATE(t.received_at) >= DATE_SUB(DATE(@run_time), INTERVAL 5 DAY)
WHEN NOT MATCHED THEN INSERT (received_at, source, reason, detail, raw)
VALUES (s.received_at, s.source, s.reason, s.detail, s.raw)
