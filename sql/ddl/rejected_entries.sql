CREATE TABLE IF NOT EXISTS rejected_entries (
  received_at TIMESTAMP NOT NULL,
  source STRING OPTIONS (description = 'where the entry came from: pubsub:MESSAGE_ID:1, file:line'),
  reason STRING,
  detail STRING,
  raw STRING
)
PARTITION BY DATE(received_at)
CLUSTER BY reason
OPTIONS (description = 'bq-chargeback: log entries that could not be used, with the reason');
