-- The churn-period and purchase-fact refreshes run in the events trigger of every ingest
-- transaction (and the purchase facts on every contact sent). For a few customers Postgres judged
-- their custom plans cheaper than a generic one — it sees the arrays' lengths — and so planned
-- their statements again on every call: 1.2 ms to plan the churn DELETE and 0.6 ms the facts
-- UPDATE, per call, more than running them (ingest benchmark, single events, about 11 per
-- transaction). For up to 64 customers they now use their generic plans (index look-ups per
-- customer), planned once per connection; for more (a batch, a bulk load) Postgres chooses as
-- before: forcing the generic plan there made a bulk load of 100,000 events 4× slower.
--
-- The statements stay where they are, renamed `…_statements`; the names the triggers call become
-- thin wrappers that choose the plan cache mode around them and put it back before returning (an
-- error rolls it back with the transaction). A later change to a refresh's statements replaces
-- the `…_statements` function, not the wrapper.

ALTER FUNCTION refresh_churn_periods(uuid[], uuid[]) RENAME TO refresh_churn_periods_statements;
ALTER FUNCTION refresh_purchase_facts(uuid[], uuid[]) RENAME TO refresh_purchase_facts_statements;

-- Switches the transaction to generic plans when a refresh is for few customers; returns the
-- mode it found, for the caller to put back.
CREATE FUNCTION generic_plans_for_few(p_customers int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_mode text := current_setting('plan_cache_mode');
BEGIN
  IF p_customers <= 64 THEN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  END IF;
  RETURN v_mode;
END $$;

CREATE FUNCTION refresh_churn_periods(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_mode text := generic_plans_for_few(cardinality(p_customers));
BEGIN
  PERFORM refresh_churn_periods_statements(p_workspaces, p_customers);
  PERFORM set_config('plan_cache_mode', v_mode, true);
END $$;

CREATE FUNCTION refresh_purchase_facts(p_workspaces uuid[], p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_mode text := generic_plans_for_few(cardinality(p_customers));
BEGIN
  PERFORM refresh_purchase_facts_statements(p_workspaces, p_customers);
  PERFORM set_config('plan_cache_mode', v_mode, true);
END $$;
