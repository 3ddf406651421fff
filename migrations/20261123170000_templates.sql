-- Message templates and call scripts (API.md "Playbooks and templates"). `templates` is the
-- current pointer per key; `template_versions` holds every saved document, immutable, so a
-- touchpoint can always show the exact version it rendered. Deleting is soft for the same
-- reason: the key becomes free again (a new template id) while old versions stay readable.

CREATE TABLE templates (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  channel text NOT NULL CHECK (channel IN ('email', 'task', 'webhook')),
  -- Copied from the current version so resolution (locale, tone, family) needs no jsonb.
  locale text NOT NULL,
  tone text NOT NULL CHECK (tone IN ('formal', 'informal')),
  family text,
  current_version integer NOT NULL CHECK (current_version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz,
  PRIMARY KEY (workspace_id, id)
);

-- One live template per key; deleted ones keep their rows (and history) beside it.
CREATE UNIQUE INDEX templates_live_key ON templates (workspace_id, key) WHERE deleted_at IS NULL;
CREATE INDEX templates_family ON templates (workspace_id, family) WHERE deleted_at IS NULL;

CREATE TABLE template_versions (
  workspace_id uuid NOT NULL,
  template_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  -- The template document as the API takes it (snake_case JSON), without its key.
  document jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, template_id, version),
  FOREIGN KEY (workspace_id, template_id) REFERENCES templates (workspace_id, id) ON DELETE CASCADE
);
