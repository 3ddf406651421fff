-- The churn-period and purchase-fact refreshes run in the events trigger of every ingest
-- transaction (and the purchase facts on every contact sent). For a few customers Postgres judged
-- their custom plans cheaper than a generic one — it sees the arrays' lengths — and so planned
-- their statements again on every call: 1.2 ms to plan the churn DELETE and 0.6 ms the facts
-- UPDATE, per call, more than running them (ingest benchmark, single events, about 11 per
-- transaction). For up to 64 customers they now use their generic plans (index look-ups per
-- customer), planned once per connection; for more (a batch, a bulk load) Postgres chooses as
-- before: forcing the generic plan there made a bulk load of 100,000 events 4× slower. The
-- setting is put back before returning (and an error rolls it back with the transaction).
-- Same statements as in 20261207010000 and 20261207110000.

CREATE OR REPLACE FUNCTION refresh_churn_periods(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_mode text := current_setting('plan_cache_mode');
BEGIN
  IF cardinality(p_customers) <= 64 THEN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  END IF;
  DELETE FROM customer_churn_periods p
  USING unnest(p_workspaces, p_customers) AS k(workspace_id, customer_id)
  WHERE p.workspace_id = k.workspace_id AND p.customer_id = k.customer_id
    AND NOT EXISTS (SELECT 1 FROM churn_periods_of(p_workspaces, p_customers) f
                    WHERE f.workspace_id = p.workspace_id AND f.customer_id = p.customer_id
                      AND f.started_at = p.started_at);
  INSERT INTO customer_churn_periods AS p (workspace_id, customer_id, started_at, ended_at)
  SELECT f.workspace_id, f.customer_id, f.started_at, f.ended_at FROM churn_periods_of(p_workspaces, p_customers) f
  ON CONFLICT (workspace_id, customer_id, started_at) DO UPDATE SET ended_at = excluded.ended_at
    WHERE p.ended_at IS DISTINCT FROM excluded.ended_at;
  PERFORM set_config('plan_cache_mode', v_mode, true);
END $$;

CREATE OR REPLACE FUNCTION refresh_purchase_facts(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_mode text := current_setting('plan_cache_mode');
BEGIN
  IF cardinality(p_customers) <= 64 THEN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  END IF;
  UPDATE purchase_categories p
  SET adds_category = x.adds_category, first_contact_at = x.first_contact_at, previous_at = x.previous_at,
      previous_in_currency_at = x.previous_in_currency_at, previous_adding_at = x.previous_adding_at
  FROM (
    SELECT y.*,
           CASE WHEN y.adds_category THEN
             lag(y.occurred_at) OVER (PARTITION BY y.workspace_id, y.customer_id, y.adds_category
                                      ORDER BY y.occurred_at, y.event_id) END AS previous_adding_at
    FROM (
      SELECT q.workspace_id, q.event_id, q.customer_id, q.occurred_at,
             (q.event_id <> f.event_id AND NOT q.categories <@ f.string_categories) AS adds_category,
             (SELECT min(coalesce(t.sent_at, t.completed_at)) FROM touchpoints t
              WHERE t.workspace_id = q.workspace_id AND t.customer_id = q.customer_id
                AND coalesce(t.sent_at, t.completed_at) IS NOT NULL
                AND coalesce(t.sent_at, t.completed_at) >= q.occurred_at) AS first_contact_at,
             lag(q.occurred_at) OVER (PARTITION BY q.workspace_id, q.customer_id
                                      ORDER BY q.occurred_at, q.event_id) AS previous_at,
             lag(q.occurred_at) OVER (PARTITION BY q.workspace_id, q.customer_id, q.currency
                                      ORDER BY q.occurred_at, q.event_id) AS previous_in_currency_at
      FROM (SELECT DISTINCT * FROM unnest(p_workspaces, p_customers) AS u(workspace_id, customer_id)) k
      JOIN purchase_categories q ON q.workspace_id = k.workspace_id AND q.customer_id = k.customer_id
      CROSS JOIN LATERAL (
        SELECT f.event_id, f.string_categories FROM purchase_categories f
        WHERE f.workspace_id = k.workspace_id AND f.customer_id = k.customer_id
        ORDER BY f.occurred_at, f.event_id
        LIMIT 1
      ) f
    ) y
  ) x
  WHERE p.workspace_id = x.workspace_id AND p.event_id = x.event_id
    AND (p.adds_category IS DISTINCT FROM x.adds_category OR p.first_contact_at IS DISTINCT FROM x.first_contact_at
         OR p.previous_at IS DISTINCT FROM x.previous_at
         OR p.previous_in_currency_at IS DISTINCT FROM x.previous_in_currency_at
         OR p.previous_adding_at IS DISTINCT FROM x.previous_adding_at);
  PERFORM set_config('plan_cache_mode', v_mode, true);
END $$;
