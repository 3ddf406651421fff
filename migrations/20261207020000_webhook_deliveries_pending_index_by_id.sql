-- claimNextDue reads an endpoint's waiting deliveries ORDER BY next_attempt_at, id. Without id in
-- the index, Postgres had to fetch and sort every due delivery of the endpoint to return the first
-- one, on every claim: with a backlog of thousands each claim cost as much as the backlog. With id
-- as the last column the index hands them out in that order and the claim stops at the first one
-- nobody holds.
DROP INDEX webhook_deliveries_pending_idx;
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (workspace_id, endpoint_id, next_attempt_at, id)
  WHERE status = 'pending';

-- The sweep pages through overdue deliveries by (next_attempt_at, workspace_id, id): the same,
-- so that a page is read in index order instead of sorting everything overdue each time.
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, workspace_id, id)
  WHERE status IN ('pending', 'sending');
