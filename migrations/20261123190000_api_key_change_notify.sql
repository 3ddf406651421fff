-- API replicas cache authenticated keys in memory (src/modules/api-keys/key-cache.ts).
-- Every change that can take rights away from a key — revocation, new scopes or hash,
-- deletion (also by a workspace's cascade), TRUNCATE — notifies `posvenda_api_keys` when
-- its transaction commits, whoever makes it (the API, bootstrap, an operator's own SQL),
-- so every replica drops the key at once. `last_used_at` bookkeeping notifies nothing.

CREATE FUNCTION notify_api_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('posvenda_api_keys', '*');
  ELSE
    PERFORM pg_notify('posvenda_api_keys', OLD.workspace_id::text || ':' || OLD.id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_rights_changed AFTER UPDATE ON api_keys FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
        OR OLD.scopes IS DISTINCT FROM NEW.scopes
        OR OLD.key_hash IS DISTINCT FROM NEW.key_hash
        OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
        OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION notify_api_key_change();

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH ROW
  EXECUTE FUNCTION notify_api_key_change();

CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys FOR EACH STATEMENT
  EXECUTE FUNCTION notify_api_key_change();
