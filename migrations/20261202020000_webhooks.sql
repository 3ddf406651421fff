-- Outgoing webhooks: the endpoints a workspace registers, one delivery per (event, endpoint)
-- that the outbox relay fans out, and every HTTP attempt of each delivery.

CREATE TABLE webhook_endpoints (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  url text NOT NULL,
  -- Outgoing event types, or '*' for all of them.
  events text[] NOT NULL,
  description text,
  -- The signing secret, AES-256-GCM encrypted with a key derived from the instance secret key:
  -- it must be used in clear to sign, so it cannot be hashed like API keys.
  secret_ciphertext bytea NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  -- Why it stopped receiving: 'gone' (it answered 410).
  disabled_reason text,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Deleted endpoints are kept (soft delete) so their delivery log stays readable in SQL.
  deleted_at timestamptz,
  PRIMARY KEY (workspace_id, id)
);

CREATE INDEX webhook_endpoints_live_idx ON webhook_endpoints (workspace_id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
  workspace_id uuid NOT NULL,
  id uuid NOT NULL,
  endpoint_id uuid NOT NULL,
  -- The outbox event delivered; also the `webhook-id` header, stable across retries.
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  -- pending: waiting for its next attempt · sending: an attempt is in flight (its lease ends at
  -- next_attempt_at) · succeeded | failed | cancelled (the endpoint was disabled or deleted).
  status text NOT NULL CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  -- Attempts allowed: the schedule's length, or one more after a manual retry.
  max_attempts integer NOT NULL,
  -- When the next attempt is due (pending), or when an in-flight attempt's lease ends (sending):
  -- the sweep re-enqueues what is overdue, so a Redis loss loses nothing.
  next_attempt_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz,
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoints (workspace_id, id) ON DELETE CASCADE
);

-- One delivery per event and endpoint, so a relay round that runs twice fans out once.
CREATE UNIQUE INDEX webhook_deliveries_event_idx ON webhook_deliveries (workspace_id, event_id, endpoint_id);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (workspace_id, endpoint_id, id DESC);
-- An endpoint's open deliveries: its attempts in flight (the per-endpoint cap) and what to cancel
-- when it is disabled or deleted.
CREATE INDEX webhook_deliveries_open_idx ON webhook_deliveries (workspace_id, endpoint_id)
  WHERE status IN ('pending', 'sending');
-- The sweep scans every workspace for what is due.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
  WHERE status IN ('pending', 'sending');

CREATE TABLE webhook_delivery_attempts (
  workspace_id uuid NOT NULL,
  delivery_id uuid NOT NULL,
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  -- Null when no response came (refused address, connection error, timeout).
  status_code integer,
  duration_ms integer NOT NULL,
  error text,
  -- The first bytes of the response body, for debugging the receiver.
  response_excerpt text,
  PRIMARY KEY (workspace_id, delivery_id, attempt),
  FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
);
