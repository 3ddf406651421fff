import { averageTicket, type CustomerState, healthScore, lifecycleStage } from './customer-state.js';

const DAY_MS = 24 * 3600 * 1000;
const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/**
 * The customer as playbook conditions see it (`customer.*` in JSON Logic): the profile in the
 * API's snake_case, derived facts, and the stage at `now`. `health_score` needs the open
 * tickets, so it is there only when the caller counted them (the dispatcher, for `send_if`).
 */
export function conditionCustomer(
  state: CustomerState,
  now: Date,
  openTickets?: number,
): Readonly<Record<string, unknown>> {
  const lastActivity = state.lastActivityAt ?? state.firstSeenAt;
  const first = state.name?.trim().split(/\s+/)[0] ?? null;
  return {
    id: state.externalId,
    name: state.name,
    first_name: first,
    email: state.email,
    phone: state.phone,
    locale: state.locale,
    timezone: state.timezone,
    segment: state.segment,
    attributes: state.attributes,
    orders_count: state.ordersCount,
    revenue_total: state.revenueTotal,
    average_ticket: averageTicket(state),
    first_purchase_at: iso(state.firstPurchaseAt),
    last_purchase_at: iso(state.lastPurchaseAt),
    last_activity_at: iso(state.lastActivityAt),
    days_since_activity: Math.max(0, Math.floor((now.getTime() - lastActivity.getTime()) / DAY_MS)),
    nps: state.nps,
    lifecycle_stage: lifecycleStage(state, now),
    ...(openTickets === undefined ? {} : { health_score: healthScore(state, openTickets, now) }),
  };
}
