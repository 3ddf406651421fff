-- Ingest as one function: plans of the statements inside a PL/pgSQL function are cached
-- per connection, so the set-based upsert below is planned once, not on every event, and a
-- whole ingest is one round trip. The events and their customers are written together:
--  1. events go in with ON CONFLICT DO NOTHING (the unique key on the client's id is the
--     idempotency check, race-free); only the events actually inserted feed step 2, so a
--     duplicate changes nothing;
--  2. customers are upserted once each with the facts of their new events: profile fields
--     take the last given value in input order, attributes merge in input order, facts fold
--     with min / max / sum / latest-by-(occurred_at, event id), so arrival order never matters;
--  3. new customers always get the call's fresh candidate id, and only this call's events
--     are re-pointed (by event id) when their customer turned out to be another: created
--     meanwhile by another transaction, or new after an erasure of the same external id
--     (reusing the erased customer's internal id was a primary-key violation, a 500);
--  4. the stored body hashes of the ids that were already there are returned, so the caller
--     can tell a duplicate (same hash) from a conflict.
-- Rows are written in external-id order so concurrent batches lock in the same order.
-- Existing customers and events are looked up per input row through their unique indexes (a
-- correlated subquery, a LATERAL join) whatever the statistics say: the jsonb recordset is
-- guessed at 100 rows, and with stale statistics the planner once read a workspace's every
-- customer (25,000 rows) to ingest one event.
-- p_with_customers: whether to return the upserted customer rows (the planner needs them).
-- p_input: [{ ord, id, external_id, type, occurred_at, properties, customer,
--   customer_external_id, candidate_customer_id, amount, currency, body_hash (hex) }]

CREATE FUNCTION ingest_events(p_workspace uuid, p_now timestamptz, p_input jsonb, p_with_customers boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_inserted jsonb;
  v_customers jsonb;
  v_existing jsonb := '[]'::jsonb;
  v_moved jsonb;
BEGIN
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(p_input) AS r(
      ord int, id uuid, external_id text, type text, occurred_at timestamptz, properties jsonb,
      customer jsonb, customer_external_id text, candidate_customer_id uuid, amount numeric,
      currency text, body_hash text)
  ),
  ws AS (SELECT currency FROM workspaces WHERE id = p_workspace),
  inserted AS (
    INSERT INTO events (workspace_id, id, external_id, customer_id, type, occurred_at, received_at,
                        properties, customer_snapshot, amount, currency, body_hash)
    SELECT p_workspace, i.id, i.external_id,
           coalesce((SELECT c.id FROM customers c
                     WHERE c.workspace_id = p_workspace AND c.external_id = i.customer_external_id),
                    i.candidate_customer_id),
           i.type,
           i.occurred_at, p_now, i.properties, i.customer, i.amount,
           CASE WHEN i.amount IS NULL THEN NULL ELSE coalesce(i.currency, (SELECT currency FROM ws)) END,
           decode(i.body_hash, 'hex')
    FROM input i
    ORDER BY i.external_id
    ON CONFLICT (workspace_id, external_id) DO NOTHING
    RETURNING id, external_id, customer_id, type, occurred_at, amount, currency, properties
  ),
  facts AS (
    SELECT i.customer_external_id AS external_id,
      (array_agg(n.customer_id))[1] AS customer_id,
      (array_agg(i.candidate_customer_id))[1] AS candidate_id,
      array_agg(n.id) AS event_ids,
      (array_agg(i.customer->>'name' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'name'))[1] AS name,
      (array_agg(i.customer->>'email' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'email'))[1] AS email,
      (array_agg(i.customer->>'phone' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'phone'))[1] AS phone,
      (array_agg(i.customer->>'locale' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'locale'))[1] AS locale,
      (array_agg(i.customer->>'timezone' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'timezone'))[1] AS timezone,
      (array_agg(i.customer->>'segment' ORDER BY i.ord DESC) FILTER (WHERE i.customer ? 'segment'))[1] AS segment,
      jsonb_merge_agg(coalesce(i.customer->'attributes', '{}'::jsonb) ORDER BY i.ord) AS attributes,
      min(n.occurred_at) AS first_seen_at,
      min(n.occurred_at) FILTER (WHERE n.type = 'purchase') AS first_purchase_at,
      max(n.occurred_at) FILTER (WHERE n.type = 'purchase') AS last_purchase_at,
      count(*) FILTER (WHERE n.type = 'purchase') AS orders_count,
      coalesce(sum(n.amount) FILTER (WHERE n.type = 'purchase' AND n.currency = (SELECT currency FROM ws)), 0) AS revenue_total,
      count(*) FILTER (WHERE n.type = 'purchase' AND n.currency = (SELECT currency FROM ws)) AS revenue_orders,
      max(n.occurred_at) FILTER (WHERE n.type IN ('activity', 'first_use', 'usage', 'purchase', 'delivery')) AS last_activity_at,
      min(n.occurred_at) FILTER (WHERE n.type = 'first_use') AS first_use_at,
      min(n.occurred_at) FILTER (WHERE n.type = 'delivery') AS first_delivery_at,
      max(n.occurred_at) FILTER (WHERE n.type = 'cancellation') AS last_cancellation_at,
      max(n.occurred_at) FILTER (WHERE n.type = 'renewal') AS last_renewal_at,
      max(n.occurred_at) FILTER (WHERE n.type = 'inactivity') AS last_inactivity_at,
      max(n.occurred_at) FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps') AS nps_at,
      (array_agg(n.external_id ORDER BY n.occurred_at DESC, n.external_id DESC)
        FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps'))[1] AS nps_event_key,
      (array_agg((n.properties->>'score')::smallint ORDER BY n.occurred_at DESC, n.external_id DESC)
        FILTER (WHERE n.type = 'survey_response' AND n.properties->>'survey' = 'nps'))[1] AS nps
    FROM inserted n JOIN input i ON i.id = n.id
    GROUP BY i.customer_external_id
  ),
  upserted AS (
    INSERT INTO customers AS c (workspace_id, id, external_id, name, email, phone, locale, timezone, segment,
      attributes, first_seen_at, first_purchase_at, last_purchase_at, orders_count, revenue_total,
      revenue_orders, last_activity_at, first_use_at, first_delivery_at, last_cancellation_at,
      last_renewal_at, last_inactivity_at, nps, nps_at, nps_event_key, created_at, updated_at)
    SELECT p_workspace, f.candidate_id, f.external_id, f.name, f.email, f.phone, f.locale, f.timezone,
      f.segment, f.attributes, f.first_seen_at, f.first_purchase_at, f.last_purchase_at, f.orders_count,
      f.revenue_total, f.revenue_orders, f.last_activity_at, f.first_use_at, f.first_delivery_at,
      f.last_cancellation_at, f.last_renewal_at, f.last_inactivity_at, f.nps, f.nps_at, f.nps_event_key,
      p_now, p_now
    FROM facts f
    ORDER BY f.external_id
    ON CONFLICT (workspace_id, external_id) DO UPDATE SET
      name = coalesce(excluded.name, c.name),
      email = coalesce(excluded.email, c.email),
      phone = coalesce(excluded.phone, c.phone),
      locale = coalesce(excluded.locale, c.locale),
      timezone = coalesce(excluded.timezone, c.timezone),
      segment = coalesce(excluded.segment, c.segment),
      attributes = c.attributes || excluded.attributes,
      first_seen_at = least(c.first_seen_at, excluded.first_seen_at),
      first_purchase_at = least(c.first_purchase_at, excluded.first_purchase_at),
      last_purchase_at = greatest(c.last_purchase_at, excluded.last_purchase_at),
      orders_count = c.orders_count + excluded.orders_count,
      revenue_total = c.revenue_total + excluded.revenue_total,
      revenue_orders = c.revenue_orders + excluded.revenue_orders,
      last_activity_at = greatest(c.last_activity_at, excluded.last_activity_at),
      first_use_at = least(c.first_use_at, excluded.first_use_at),
      first_delivery_at = least(c.first_delivery_at, excluded.first_delivery_at),
      last_cancellation_at = greatest(c.last_cancellation_at, excluded.last_cancellation_at),
      last_renewal_at = greatest(c.last_renewal_at, excluded.last_renewal_at),
      last_inactivity_at = greatest(c.last_inactivity_at, excluded.last_inactivity_at),
      nps = CASE WHEN c.nps_at IS NULL OR (excluded.nps_at, excluded.nps_event_key) > (c.nps_at, c.nps_event_key)
                 THEN coalesce(excluded.nps, c.nps) ELSE c.nps END,
      nps_event_key = CASE WHEN c.nps_at IS NULL OR (excluded.nps_at, excluded.nps_event_key) > (c.nps_at, c.nps_event_key)
                 THEN coalesce(excluded.nps_event_key, c.nps_event_key) ELSE c.nps_event_key END,
      nps_at = greatest(c.nps_at, excluded.nps_at),
      updated_at = excluded.updated_at
    RETURNING c.*
  )
  SELECT
    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'external_id', n.external_id)), '[]'::jsonb)
       FROM inserted n),
    -- The customers after the upsert, for the planner; skipped when nothing will plan.
    (SELECT coalesce(jsonb_agg(to_jsonb(u)), '[]'::jsonb) FROM upserted u WHERE p_with_customers),
    (SELECT jsonb_agg(jsonb_build_object('events', to_jsonb(f.event_ids), 'to', u.id))
       FROM upserted u JOIN facts f ON f.external_id = u.external_id
       WHERE f.customer_id <> u.id)
  INTO v_inserted, v_customers, v_moved;

  IF v_moved IS NOT NULL THEN
    UPDATE events e SET customer_id = x.to_id
    FROM (SELECT (m->>'to')::uuid AS to_id, jsonb_array_elements_text(m->'events')::uuid AS event_id
          FROM jsonb_array_elements(v_moved) m) x
    WHERE e.workspace_id = p_workspace AND e.id = x.event_id;
  END IF;

  IF jsonb_array_length(v_inserted) < jsonb_array_length(p_input) THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object('external_id', e.external_id,
             'body_hash', encode(e.body_hash, 'hex'))), '[]'::jsonb)
    INTO v_existing
    FROM (SELECT r->>'external_id' AS external_id FROM jsonb_array_elements(p_input) r
          EXCEPT
          SELECT n->>'external_id' FROM jsonb_array_elements(v_inserted) n) missing
    CROSS JOIN LATERAL (SELECT x.external_id, x.body_hash FROM events x
                        WHERE x.workspace_id = p_workspace AND x.external_id = missing.external_id) e;
  END IF;

  RETURN jsonb_build_object('inserted', v_inserted, 'customers', v_customers, 'existing', v_existing);
END
$$;
