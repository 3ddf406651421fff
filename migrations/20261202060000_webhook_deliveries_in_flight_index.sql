-- The per-endpoint cap counts an endpoint's attempts in flight on every claim. Through
-- webhook_deliveries_open_idx that count also walked every *pending* delivery of the endpoint:
-- with thousands waiting (a burst of webhook touchpoints) each claim read them all, and the
-- claims queued on the connection pool. This index holds only the attempts in flight (a
-- handful per endpoint), so the count stays small whatever the backlog.
CREATE INDEX webhook_deliveries_in_flight_idx ON webhook_deliveries (workspace_id, endpoint_id, next_attempt_at)
  WHERE status = 'sending';
