-- Retention: a periodic task deletes dispatched outbox rows and finished webhook deliveries past
-- their retention, oldest first, in small batches. These indexes let it find them by age without
-- walking the recent rows (or the whole table when little is old enough).

-- Dispatched outbox rows by dispatch time; seq breaks ties and keeps a round's walk moving.
CREATE INDEX outbox_dispatched_idx ON outbox (dispatched_at, seq) WHERE dispatched_at IS NOT NULL;

-- Finished deliveries by completion time (pending and in-flight ones are never pruned).
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (completed_at)
  WHERE status IN ('succeeded', 'failed', 'cancelled');
