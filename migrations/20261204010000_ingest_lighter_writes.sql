-- Lighter writes for ingest (README "Benchmark"): a 1000-event batch of the seed playbooks
-- writes about 1,150 enrollments and 2,900 touchpoints, and each row's foreign-key checks
-- (one SPI query and a row lock each) cost more than its index entries.
--
-- 1. touchpoints → enrollments: dropped. Every touchpoint is written by apply_plan() with an
--    enrollment written in the same call, or with a stored enrollment that the same
--    transaction read under its customer's row lock; enrollments are never deleted (they end
--    as completed or exited), and a customer's deletion still removes its touchpoints through
--    touchpoints → customers (kept, ON DELETE CASCADE, which is cheap here: the customer row is
--    already locked by the ingest's upsert). The check locked each new enrollment row a second
--    time, about a third of the touchpoint insert's cost. touchpoints_enrollment_idx stays: exits
--    and moved triggers find an enrollment's touchpoints through it.
-- 2. enrollments → playbook_versions: dropped. Playbook versions are immutable and never
--    deleted; the planner writes the id and version of a playbook version it read in the same
--    workspace (enabledPlaybooks joins playbook_versions), so the check could never fail.
-- 3. ingest_events(): the planning snapshot reads the customers' enrollments, the duplicates'
--    stored hashes and the events to re-point with `= ANY (array)` index look-ups. The LATERAL joins were
--    flattened by the planner into hash joins that read every enrollment (and every event) of
--    the workspace: 70,000 index entries and a second of I/O to ingest 20 events once a
--    workspace had 12,000 enrollments.

ALTER TABLE touchpoints DROP CONSTRAINT touchpoints_workspace_id_enrollment_id_fkey;
ALTER TABLE enrollments DROP CONSTRAINT enrollments_workspace_id_playbook_id_playbook_version_fkey;

CREATE OR REPLACE FUNCTION ingest_events(p_workspace uuid, p_now timestamptz, p_input jsonb, p_with_customers boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_inserted jsonb;
  v_customers jsonb;
  v_existing jsonb := '[]'::jsonb;
  v_moved jsonb;
  v_planning jsonb;
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
    WHERE e.workspace_id = p_workspace AND e.id = x.event_id
      AND e.id = ANY (ARRAY(SELECT jsonb_array_elements_text(m->'events')::uuid
                            FROM jsonb_array_elements(v_moved) m));
  END IF;

  IF jsonb_array_length(v_inserted) < jsonb_array_length(p_input) THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object('external_id', x.external_id,
             'body_hash', encode(x.body_hash, 'hex'))), '[]'::jsonb)
    INTO v_existing
    FROM events x
    WHERE x.workspace_id = p_workspace
      AND x.external_id = ANY (ARRAY(SELECT r->>'external_id' FROM jsonb_array_elements(p_input) r
                                     EXCEPT
                                     SELECT n->>'external_id' FROM jsonb_array_elements(v_inserted) n));
  END IF;

  -- What planning needs, read now that this call holds its customers' row locks (a new
  -- statement, so a new snapshot: it sees what the transactions it waited for committed).
  IF p_with_customers AND jsonb_array_length(v_customers) > 0 THEN
    SELECT jsonb_build_object(
      'workspace', (SELECT jsonb_build_object('timezone', w.timezone, 'country', w.country,
                      'currency', w.currency, 'locale', w.locale, 'settings', w.settings)
                    FROM workspaces w WHERE w.id = p_workspace),
      'playbooks_stamp', (SELECT coalesce(string_agg(p.id::text || ':' || p.current_version || ':' || p.enabled,
                                                     ',' ORDER BY p.id), '')
                          FROM playbooks p WHERE p.workspace_id = p_workspace AND p.deleted_at IS NULL),
      'enrollments', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                         'id', e.id, 'customer_id', e.customer_id, 'playbook_id', e.playbook_id,
                         'playbook_key', e.playbook_key, 'playbook_version', e.playbook_version,
                         'status', e.status, 'trigger_kind', e.trigger_kind, 'trigger_at', e.trigger_at,
                         'trigger_key', e.trigger_key, 'last_due_at', e.last_due_at)
                       ORDER BY e.trigger_at), '[]'::jsonb)
                      -- The customers' entries of enrollments_customer_idx, whatever the estimates.
                      FROM enrollments e
                      WHERE e.workspace_id = p_workspace
                        AND e.customer_id = ANY (ARRAY(SELECT (c->>'id')::uuid
                                                       FROM jsonb_array_elements(v_customers) c))))
    INTO v_planning;
  END IF;

  RETURN jsonb_build_object('inserted', v_inserted, 'customers', v_customers, 'existing', v_existing,
                            'planning', v_planning);
END
$$;

