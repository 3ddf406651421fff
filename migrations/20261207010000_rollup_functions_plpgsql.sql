-- The rollup refreshes run inside triggers on every purchase, renewal, cancellation and sent
-- contact. As LANGUAGE sql functions their statements were planned again on every call (Postgres
-- keeps a SQL function's plans only for the statement that calls it); as plpgsql each backend
-- prepares them once and reuses the plans. Same statements, same results.

CREATE OR REPLACE FUNCTION refresh_churn_periods(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
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
END $$;

CREATE OR REPLACE FUNCTION refresh_purchase_facts(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE purchase_categories p SET adds_category = x.adds_category, first_contact_at = x.first_contact_at
  FROM (
    SELECT q.workspace_id, q.event_id,
           (q.event_id <> f.event_id AND NOT q.categories <@ f.string_categories) AS adds_category,
           (SELECT min(coalesce(t.sent_at, t.completed_at)) FROM touchpoints t
            WHERE t.workspace_id = q.workspace_id AND t.customer_id = q.customer_id
              AND coalesce(t.sent_at, t.completed_at) IS NOT NULL
              AND coalesce(t.sent_at, t.completed_at) >= q.occurred_at) AS first_contact_at
    FROM (SELECT DISTINCT * FROM unnest(p_workspaces, p_customers) AS u(workspace_id, customer_id)) k
    JOIN purchase_categories q ON q.workspace_id = k.workspace_id AND q.customer_id = k.customer_id
    CROSS JOIN LATERAL (
      SELECT f.event_id, f.string_categories FROM purchase_categories f
      WHERE f.workspace_id = k.workspace_id AND f.customer_id = k.customer_id
      ORDER BY f.occurred_at, f.event_id
      LIMIT 1
    ) f
  ) x
  WHERE p.workspace_id = x.workspace_id AND p.event_id = x.event_id
    AND (p.adds_category IS DISTINCT FROM x.adds_category OR p.first_contact_at IS DISTINCT FROM x.first_contact_at);
END $$;
