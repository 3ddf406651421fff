-- The churn-period refresh runs inside the events trigger on every purchase, renewal and
-- cancellation. As a LANGUAGE sql function its statements were planned again on every call
-- (Postgres keeps a SQL function's plans only for the statement that calls it); as plpgsql each
-- backend prepares them once and reuses the plans. Same statements, same results. (The purchase-
-- facts refresh becomes plpgsql with its new body in 20261207110000.)

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
