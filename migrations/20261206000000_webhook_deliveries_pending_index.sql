-- A worker that finishes an attempt takes the next due delivery of the same endpoint
-- (claimNextDue), most overdue first. This index holds only the waiting deliveries, in the order
-- that claim reads them, so taking the next one costs a look at the head of the backlog.
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (workspace_id, endpoint_id, next_attempt_at)
  WHERE status = 'pending';
