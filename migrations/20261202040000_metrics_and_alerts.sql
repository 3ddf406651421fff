-- Metrics and alert rules (API.md "Metrics"). KPIs are computed at query time from events,
-- customers and touchpoints; these indexes keep the summary's window scans index-only where
-- they can.

-- Purchases, cancellations, surveys and tickets of a window, with what the KPIs read of them
-- (money and the customer) carried in the index.
CREATE INDEX events_type_time_idx ON events (workspace_id, type, occurred_at)
  INCLUDE (customer_id, amount, currency);

-- The events of one support ticket (opened, first response, resolved, reopened).
CREATE INDEX events_ticket_idx ON events (workspace_id, (properties ->> 'ticket_id'), occurred_at)
  WHERE type LIKE 'support\_ticket.%';

-- New buyers of a window, and those who had bought before a point in time.
CREATE INDEX customers_first_purchase_idx ON customers (workspace_id, first_purchase_at)
  WHERE first_purchase_at IS NOT NULL;

-- Touchpoints by the moment they reached the customer: sent (email, webhook) or completed (task),
-- carrying what response time reads, so a window is an index-only scan.
CREATE INDEX touchpoints_contact_idx ON touchpoints (workspace_id, (coalesce(sent_at, completed_at)))
  INCLUDE (customer_id, due_at, created_at, sent_at, completed_at)
  WHERE coalesce(sent_at, completed_at) IS NOT NULL;
-- Upsell offers only (the pattern is UPSELL_TEMPLATE_PATTERN of metrics.repository.ts).
CREATE INDEX touchpoints_upsell_contact_idx ON touchpoints (workspace_id, (coalesce(sent_at, completed_at)))
  INCLUDE (customer_id, sent_at, completed_at)
  WHERE template_key ~ '(upgrade|upsell|cross-sell)' AND coalesce(sent_at, completed_at) IS NOT NULL;
-- A customer's first contact at or after a sale (lead time).
CREATE INDEX touchpoints_customer_contact_idx ON touchpoints (workspace_id, customer_id, (coalesce(sent_at, completed_at)))
  INCLUDE (sent_at, completed_at)
  WHERE coalesce(sent_at, completed_at) IS NOT NULL;

-- KPI queries scan tens of thousands of rows; JIT compiling them costs more than it saves (hundreds
-- of milliseconds on a busy machine), and the service's OLTP queries never gain from it either.
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); END $$;

CREATE TABLE alert_rules (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  kpi text NOT NULL,
  -- ISO-8601 duration of the trailing window the KPI is computed over, e.g. P30D.
  "window" text NOT NULL,
  segment text,
  comparison text NOT NULL CHECK (comparison IN ('lt', 'lte', 'gt', 'gte')),
  threshold double precision NOT NULL,
  -- ISO-8601 duration: no second trigger sooner than this after the last one.
  cooldown text NOT NULL,
  -- { switch_variant: { playbook, step, variant } } or null.
  action jsonb,
  -- State of the last evaluation: a rule fires when it goes from not holding to holding.
  holding boolean NOT NULL DEFAULT false,
  last_value double precision,
  last_evaluated_at timestamptz,
  last_triggered_at timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- The evaluator walks every workspace's rules, least recently evaluated first.
CREATE INDEX alert_rules_evaluation_idx ON alert_rules (last_evaluated_at NULLS FIRST);

-- A step switched to one template variant by an alert action; the dispatcher consults it when
-- it picks the variant of a touchpoint of that step.
CREATE TABLE step_variant_overrides (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  playbook_key text NOT NULL,
  step_key text NOT NULL,
  variant text NOT NULL,
  -- The rule whose action set it (kept when the rule is deleted, for the record).
  rule_id uuid,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, playbook_key, step_key)
);
