-- webhook_deliveries_open_idx (workspace_id, endpoint_id) WHERE status IN ('pending', 'sending')
-- has no reader left that the other indexes do not serve better: the per-endpoint cap counts
-- through webhook_deliveries_in_flight_idx, claims and cancellations read pending deliveries
-- through webhook_deliveries_pending_idx, the sweep through webhook_deliveries_due_idx. Worse,
-- when the statistics say pending deliveries are rare (the usual state, and what the planner
-- sees in a burst before the next ANALYZE), the claim's plan read an endpoint's whole backlog
-- through it and sorted it, on every claim, instead of taking the first row of the pending
-- index in order. Without it that plan is not on offer, and each delivery's status change
-- updates one index fewer.
DROP INDEX webhook_deliveries_open_idx;
