CREATE TABLE IF NOT EXISTS rejected_entries (
  received_at TIMESTAMP NOT NULL,
  source STRING OPTIONS (description = 'where the entry came from: pubsub:MESSAGE_ID:1, file:line'),
  reason STRING,
  detail STRING,
  raw STRING OPTIONS (description = 'the entry as read, cut to its first 4096 characters'),
  raw_bytes INT64 OPTIONS (description = 'length of the whole entry in UTF-8 bytes'),
  raw_sha256 STRING OPTIONS (description = 'SHA-256 of the whole entry, hex: finds it in the source log')
)
PARTITION BY DATE(received_at)
CLUSTER BY reason
OPTIONS (description = 'bq-chargeback: log entries that could not be used, with the reason');
