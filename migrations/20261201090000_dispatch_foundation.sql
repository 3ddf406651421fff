-- Dispatch foundation: what the dispatcher records on a touchpoint, its delivery attempts, and
-- the outbox of outgoing events written in the transaction of the change they describe.

ALTER TABLE touchpoints
  -- The rendered content the customer got (subject, html, text, script …), frozen at send time.
  ADD COLUMN content jsonb,
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN queued_at timestamptz,
  ADD COLUMN sent_at timestamptz,
  ADD COLUMN completed_at timestamptz,
  -- Engagement, first occurrence of each (tracking records them).
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN opened_at timestamptz,
  ADD COLUMN clicked_at timestamptz,
  ADD COLUMN answered_at timestamptz,
  ADD COLUMN unsubscribed_at timestamptz,
  ADD COLUMN converted_at timestamptz,
  -- Email: the provider's message id (also the stable Message-ID we set).
  ADD COLUMN provider_message_id text;

-- Recovery after a Redis loss scans the queued ones.
CREATE INDEX touchpoints_queued_idx ON touchpoints (queued_at) WHERE status IN ('queued', 'sending');

CREATE TABLE touchpoint_attempts (
  workspace_id uuid NOT NULL,
  touchpoint_id uuid NOT NULL,
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  error text,
  provider_message_id text,
  PRIMARY KEY (workspace_id, touchpoint_id, attempt),
  FOREIGN KEY (workspace_id, touchpoint_id) REFERENCES touchpoints (workspace_id, id) ON DELETE CASCADE
);

-- Outgoing events (webhook event types of API.md). Written in the same transaction as the change;
-- the relay fans each one out to the subscribed endpoints and sets dispatched_at.
CREATE TABLE outbox (
  seq bigserial PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  -- Set when only one endpoint gets the event (a webhook step naming its endpoint).
  endpoint_id uuid,
  created_at timestamptz NOT NULL,
  dispatched_at timestamptz
);

CREATE UNIQUE INDEX outbox_id_idx ON outbox (workspace_id, id);
CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE dispatched_at IS NULL;
