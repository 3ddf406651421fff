-- The calendar. An enrollment is one customer in one playbook version; a touchpoint is one
-- planned contact. Both are written in the transaction of the event that decided them.
--
-- Touchpoint statuses (the dispatcher moves them; each reaches exactly one terminal state):
--   scheduled → queued → sending → sent | failed | skipped | cancelled   (email, webhook)
--   scheduled → queued → pending → completed | cancelled                  (task: a person acts)
-- skipped and cancelled carry a reason (late, condition, consent, exited, rescheduled …).

CREATE TABLE enrollments (
  workspace_id uuid NOT NULL,
  id uuid NOT NULL,
  customer_id uuid NOT NULL,
  playbook_id uuid NOT NULL,
  playbook_key text NOT NULL,
  playbook_version integer NOT NULL,
  trigger_kind text NOT NULL CHECK (trigger_kind IN ('event', 'inactivity', 'usage', 'before')),
  trigger_event_id uuid,
  -- When the trigger fired, or will fire for a pending one (an idle period, a date).
  trigger_at timestamptz NOT NULL,
  -- For date triggers: the date value it was planned for.
  trigger_key text,
  status text NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
  -- The due time of its last scheduled touchpoint: past it, the enrollment has nothing left.
  last_due_at timestamptz,
  exit_reason text,
  ended_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, playbook_id, playbook_version)
    REFERENCES playbook_versions (workspace_id, playbook_id, version)
);

CREATE INDEX enrollments_customer_idx ON enrollments (workspace_id, customer_id, playbook_key);
CREATE INDEX enrollments_active_playbook_idx ON enrollments (workspace_id, playbook_key) WHERE status = 'active';

CREATE TABLE touchpoints (
  workspace_id uuid NOT NULL,
  id uuid NOT NULL,
  customer_id uuid NOT NULL,
  enrollment_id uuid NOT NULL,
  playbook_key text NOT NULL,
  playbook_version integer NOT NULL,
  step_key text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'webhook', 'task')),
  template_key text NOT NULL,
  task_kind text CHECK (task_kind IN ('call', 'meeting', 'whatsapp')),
  endpoint_id uuid,
  due_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN
    ('scheduled', 'queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'pending', 'completed')),
  status_reason text,
  -- Set when rendered: the exact template version and variant the customer got.
  template_version integer,
  variant text,
  -- Tasks: what the person recorded.
  outcome text,
  outcome_notes text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, enrollment_id) REFERENCES enrollments (workspace_id, id) ON DELETE CASCADE
);

-- The calendar and its filters.
CREATE INDEX touchpoints_calendar_idx ON touchpoints (workspace_id, status, due_at);
CREATE INDEX touchpoints_due_idx ON touchpoints (workspace_id, due_at, id);
CREATE INDEX touchpoints_customer_idx ON touchpoints (workspace_id, customer_id, due_at DESC, id DESC);
CREATE INDEX touchpoints_enrollment_idx ON touchpoints (workspace_id, enrollment_id);
-- The dispatcher's pump scans every workspace for what falls due.
CREATE INDEX touchpoints_scheduled_due_idx ON touchpoints (due_at) WHERE status = 'scheduled';

-- Secret calendar feeds: bumping the generation revokes every feed URL given before.
CREATE TABLE calendar_feeds (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  generation integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id)
);
