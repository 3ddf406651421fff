-- Tenants and their API keys. Every primary key and unique index starts with the
-- workspace id, so the tables can be distributed by workspace (Citus) without a rewrite.

CREATE TABLE workspaces (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone text NOT NULL,
  country char(2) NOT NULL,
  currency char(3) NOT NULL,
  locale text NOT NULL,
  -- Late grace, quiet hours, frequency caps and KPI targets; defaults are applied in code
  -- so that changing a default reaches every workspace that did not override it.
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['admin', 'events:write', 'read']),
  -- SHA-256 of the whole key: keys are 256-bit random, so a slow hash adds nothing.
  key_hash bytea NOT NULL,
  -- The first characters of the key, to let people tell keys apart in listings.
  key_hint text NOT NULL,
  -- True for the key provisioned from POSVENDA_ADMIN_KEY, which the environment owns.
  managed boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  PRIMARY KEY (workspace_id, id)
);

CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (workspace_id, key_hash);

-- Instance-wide secrets generated at first start when not configured (e.g. SECRET_KEY),
-- so every replica and every restart signs with the same key. Not tenant data.
CREATE TABLE instance_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL
);
