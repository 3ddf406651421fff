-- Playbooks: versioned data. `playbooks` is the current pointer per key; every saved
-- document is an immutable row of `playbook_versions`, so running enrollments keep the
-- version they started on. Deleting is soft: history stays readable for old enrollments.

CREATE TABLE playbooks (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  current_version integer NOT NULL CHECK (current_version >= 1),
  -- Copied from the current version: the engine loads only enabled playbooks.
  enabled boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz,
  PRIMARY KEY (workspace_id, id)
);

CREATE UNIQUE INDEX playbooks_live_key ON playbooks (workspace_id, key) WHERE deleted_at IS NULL;

CREATE TABLE playbook_versions (
  workspace_id uuid NOT NULL,
  playbook_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  -- The document as the API takes it (snake_case JSON), without its key.
  document jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, playbook_id, version),
  FOREIGN KEY (workspace_id, playbook_id) REFERENCES playbooks (workspace_id, id) ON DELETE CASCADE
);
