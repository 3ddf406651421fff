-- Customers, the events that build them, and the record of erasures. Every primary key and
-- unique index starts with workspace_id (Citus-ready, see DESIGN.md "Scale-out").

-- Shallow merge of jsonb objects in aggregate order: folds the `attributes` of several events
-- of one customer in a batch exactly as applying them one by one with `||` would.
CREATE AGGREGATE jsonb_merge_agg (jsonb) (SFUNC = jsonb_concat, STYPE = jsonb, INITCOND = '{}');

CREATE TABLE customers (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  -- The shop's own customer id; replaced by an unlinkable pseudonym when erased.
  external_id text NOT NULL,
  name text,
  email text,
  phone text,
  locale text,
  timezone text,
  segment text,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Only explicit choices are stored ({ channel: { status, source, updated_at } }); defaults
  -- are applied in code so that changing a default reaches every customer.
  consent jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Derived facts. Each is an order-independent fold (min, max, sum, or "latest by
  -- occurred_at, then event id") of the accepted events, so late and out-of-order events
  -- give the same values as in-order ones. The lifecycle stage is computed from them at read time.
  first_seen_at timestamptz NOT NULL,
  first_purchase_at timestamptz,
  last_purchase_at timestamptz,
  orders_count integer NOT NULL DEFAULT 0,
  -- Sum of purchase amounts in the workspace's currency, and how many purchases that is.
  revenue_total numeric NOT NULL DEFAULT 0 CHECK (revenue_total >= 0),
  revenue_orders integer NOT NULL DEFAULT 0,
  last_activity_at timestamptz,
  first_use_at timestamptz,
  first_delivery_at timestamptz,
  last_cancellation_at timestamptz,
  last_renewal_at timestamptz,
  last_inactivity_at timestamptz,
  nps smallint CHECK (nps BETWEEN 0 AND 10),
  nps_at timestamptz,
  nps_event_key text,
  erased_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
)
-- Customers are updated on almost every event: room left in each page lets the update stay
-- on the page (HOT) and skip the indexes.
WITH (fillfactor = 80);

CREATE UNIQUE INDEX customers_external_id_key ON customers (workspace_id, external_id);
CREATE INDEX customers_segment_idx ON customers (workspace_id, segment, id) WHERE erased_at IS NULL;
CREATE INDEX customers_email_idx ON customers (workspace_id, lower(email)) WHERE erased_at IS NULL;

CREATE TABLE events (
  workspace_id uuid NOT NULL,
  id uuid NOT NULL,
  -- The client's event id: the idempotency key within the workspace.
  external_id text NOT NULL,
  customer_id uuid NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The `customer` object as sent (personal data): nulled by erasure.
  customer_snapshot jsonb,
  -- Kept through erasure so revenue KPIs stay right.
  amount numeric CHECK (amount >= 0),
  currency char(3),
  -- SHA-256 of the canonical request body: same id + same hash = duplicate, else conflict.
  body_hash bytea NOT NULL,
  PRIMARY KEY (workspace_id, id),
  -- Deferred: ingest inserts the event before it upserts its customer (a duplicate must
  -- change nothing, and only the insert tells whether the event is new).
  FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE UNIQUE INDEX events_external_id_key ON events (workspace_id, external_id);
CREATE INDEX events_customer_timeline_idx ON events (workspace_id, customer_id, occurred_at DESC, id DESC);

-- Proof that an erasure happened, holding nothing that identifies the person.
CREATE TABLE customer_erasures (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  customer_id uuid NOT NULL,
  erased_at timestamptz NOT NULL,
  -- The API key that asked for it.
  key_id uuid,
  events_scrubbed integer NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
