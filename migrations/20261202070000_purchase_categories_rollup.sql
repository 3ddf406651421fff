-- Rollup for the cross-sell rate: every purchase event's product categories in a narrow row, so
-- the KPI reads index-only instead of fetching each purchase's jsonb (the window's purchases and
-- each buyer's first purchase ever) from the events heap.
-- Exact, never stale: kept by statement-level triggers on events in the writing transaction.
--  - insert: only rows actually inserted are in the transition table, so an idempotent duplicate
--    (ON CONFLICT DO NOTHING) adds nothing; a late or out-of-order purchase is just another row,
--    and "first purchase" is read as the smallest (occurred_at, event id) at query time;
--  - update (re-pointing to another customer, erasure's scrub of properties): the rows of the
--    updated events are replaced from their new version;
--  - delete (also cascaded from customers and workspaces): their rows go.
-- The segment is not stored: KPIs filter by the customer's current segment at query time.
-- categories: every `products[].category` as text (what a window purchase bought);
-- string_categories: those that are JSON strings, the ones `products @> [{category: "x"}]`
-- can match (what the first purchase had).

CREATE FUNCTION product_categories(p_products jsonb, p_strings_only boolean)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(item ->> 'category'), '{}')
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_products) = 'array' THEN p_products ELSE '[]'::jsonb END) item
  WHERE item ->> 'category' IS NOT NULL
    AND (NOT p_strings_only OR jsonb_typeof(item -> 'category') = 'string')
$$;

CREATE TABLE purchase_categories (
  workspace_id uuid NOT NULL,
  event_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  categories text[] NOT NULL,
  string_categories text[] NOT NULL,
  PRIMARY KEY (workspace_id, event_id)
);

-- The window's purchases, and each customer's first purchase (one probe, index-only).
CREATE INDEX purchase_categories_time_idx ON purchase_categories (workspace_id, occurred_at)
  INCLUDE (customer_id, event_id, categories);
CREATE INDEX purchase_categories_customer_idx ON purchase_categories (workspace_id, customer_id, occurred_at, event_id)
  INCLUDE (string_categories);

CREATE FUNCTION purchase_categories_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO purchase_categories (workspace_id, event_id, customer_id, occurred_at, categories, string_categories)
  SELECT n.workspace_id, n.id, n.customer_id, n.occurred_at,
         product_categories(n.properties -> 'products', false),
         product_categories(n.properties -> 'products', true)
  FROM new_events n
  WHERE n.type = 'purchase';
  RETURN NULL;
END $$;

CREATE FUNCTION purchase_categories_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM purchase_categories p
  USING old_events o
  WHERE o.type = 'purchase' AND p.workspace_id = o.workspace_id AND p.event_id = o.id;
  INSERT INTO purchase_categories (workspace_id, event_id, customer_id, occurred_at, categories, string_categories)
  SELECT n.workspace_id, n.id, n.customer_id, n.occurred_at,
         product_categories(n.properties -> 'products', false),
         product_categories(n.properties -> 'products', true)
  FROM new_events n
  WHERE n.type = 'purchase';
  RETURN NULL;
END $$;

CREATE FUNCTION purchase_categories_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM purchase_categories p
  USING old_events o
  WHERE o.type = 'purchase' AND p.workspace_id = o.workspace_id AND p.event_id = o.id;
  RETURN NULL;
END $$;

CREATE TRIGGER events_purchase_categories_insert AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION purchase_categories_after_insert();
CREATE TRIGGER events_purchase_categories_update AFTER UPDATE ON events
  REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION purchase_categories_after_update();
CREATE TRIGGER events_purchase_categories_delete AFTER DELETE ON events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION purchase_categories_after_delete();

-- Backfill.
INSERT INTO purchase_categories (workspace_id, event_id, customer_id, occurred_at, categories, string_categories)
SELECT e.workspace_id, e.id, e.customer_id, e.occurred_at,
       product_categories(e.properties -> 'products', false),
       product_categories(e.properties -> 'products', true)
FROM events e
WHERE e.type = 'purchase';
