-- The churn-period and purchase-fact refreshes run in the events trigger of every ingest
-- transaction (and the purchase facts on every contact sent). Postgres judged their custom plans
-- cheaper than a generic one — it can see the arrays' lengths — so it planned their statements
-- again on every call: 1.2 ms to plan the churn DELETE and 0.6 ms the facts UPDATE, per call,
-- more than running them (ingest benchmark, single events, about 11 per transaction). Their
-- generic plans look the given customers up by index, the right plan for one customer as for a
-- thousand, so they are used from the first call.
ALTER FUNCTION refresh_churn_periods(uuid[], uuid[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION refresh_purchase_facts(uuid[], uuid[]) SET plan_cache_mode = force_generic_plan;
