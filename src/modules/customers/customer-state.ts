// Pure: a customer's stored facts, and what is derived from them at a given "now"
// (lifecycle stage, health score). Derived values depend on now, so they are computed when
// read, never stored stale.

export const LIFECYCLE_STAGES = ['onboarding', 'adoption', 'active', 'at_risk', 'churned'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

const DAY_MS = 24 * 60 * 60 * 1000;
/** Days of silence after which a customer is at risk; also the length of onboarding and adoption. */
export const STAGE_WINDOW_DAYS = 30;

/** The stored facts of a customer, folded from its events in any order. */
export interface CustomerFacts {
  readonly firstSeenAt: Date;
  readonly firstPurchaseAt: Date | null;
  readonly lastPurchaseAt: Date | null;
  readonly ordersCount: number;
  readonly revenueTotal: number;
  readonly revenueOrders: number;
  /** Latest activity-class event: activity, first_use, usage, purchase, delivery. */
  readonly lastActivityAt: Date | null;
  readonly firstUseAt: Date | null;
  readonly firstDeliveryAt: Date | null;
  readonly lastCancellationAt: Date | null;
  readonly lastRenewalAt: Date | null;
  readonly lastInactivityAt: Date | null;
  /** Score of the NPS answer with the latest occurred_at (ties: greatest event id). */
  readonly nps: number | null;
}

/** A customer row: profile, consent choices and facts. */
export interface CustomerState extends CustomerFacts {
  readonly id: string;
  readonly externalId: string;
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly locale: string | null;
  readonly timezone: string | null;
  readonly segment: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly consent: Readonly<Record<string, unknown>>;
  /** The stage last announced by a `customer.stage_changed` event (null before the first). */
  readonly announcedStage: LifecycleStage | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const later = (a: Date | null, b: Date | null): Date | null =>
  a === null ? b : b === null ? a : a > b ? a : b;
const earlier = (a: Date | null, b: Date | null): Date | null =>
  a === null ? b : b === null ? a : a < b ? a : b;

/**
 * The lifecycle stage at `now`; the first rule that holds wins:
 * 1. churned — a cancellation, with no purchase or renewal after the latest one;
 * 2. at_risk — latest NPS ≤ 6 (a detractor), or an `inactivity` event after the latest
 *    activity, or no activity-class event (activity, first_use, usage, purchase, delivery)
 *    for 30 days or more (a customer with none counts from its first event);
 * 3. onboarding — no first_use yet, and the first purchase or delivery (else the first
 *    event) less than 30 days ago;
 * 4. adoption — first_use less than 30 days ago;
 * 5. active — otherwise.
 * `customers.repository.ts` has the same rule in SQL for `?stage=`; tests hold them equal.
 */
export function lifecycleStage(facts: CustomerFacts, now: Date): LifecycleStage {
  const windowStart = now.getTime() - STAGE_WINDOW_DAYS * DAY_MS;
  if (facts.lastCancellationAt) {
    const comeback = later(facts.lastPurchaseAt, facts.lastRenewalAt);
    if (!(comeback && comeback > facts.lastCancellationAt)) return 'churned';
  }
  if (facts.nps !== null && facts.nps <= 6) return 'at_risk';
  if (facts.lastInactivityAt && facts.lastInactivityAt > (facts.lastActivityAt ?? new Date(-8.64e15))) {
    return 'at_risk';
  }
  if ((facts.lastActivityAt ?? facts.firstSeenAt).getTime() <= windowStart) return 'at_risk';
  if (facts.firstUseAt === null) {
    const start = earlier(facts.firstPurchaseAt, facts.firstDeliveryAt) ?? facts.firstSeenAt;
    if (start.getTime() > windowStart) return 'onboarding';
    return 'active';
  }
  if (facts.firstUseAt.getTime() > windowStart) return 'adoption';
  return 'active';
}

/**
 * A 0–100 health score, simple enough to explain to a customer-success team:
 * - recency, up to 50: 50 when the latest activity is at most 7 days old, falling linearly
 *   to 0 at 60 days (0 after an `inactivity` event newer than the latest activity);
 * - NPS, up to 30: 3 × the latest NPS score; 15 when there is none;
 * - support, up to 20: 20 with no open ticket, 10 with one, 0 with two or more.
 * A churned customer scores 0.
 */
export function healthScore(facts: CustomerFacts, openTickets: number, now: Date): number {
  if (lifecycleStage(facts, now) === 'churned') return 0;
  const reference = facts.lastActivityAt ?? facts.firstSeenAt;
  const idleDays = Math.max(0, (now.getTime() - reference.getTime()) / DAY_MS);
  const inactive = facts.lastInactivityAt !== null && facts.lastInactivityAt > reference;
  const recency = inactive ? 0 : idleDays <= 7 ? 50 : idleDays >= 60 ? 0 : (50 * (60 - idleDays)) / 53;
  const nps = facts.nps === null ? 15 : facts.nps * 3;
  const support = openTickets === 0 ? 20 : openTickets === 1 ? 10 : 0;
  return Math.round(recency + nps + support);
}

/** Revenue over purchases in the workspace currency, per purchase, to the cent; null with none. */
export function averageTicket(facts: CustomerFacts): number | null {
  if (facts.revenueOrders === 0) return null;
  return Math.round((facts.revenueTotal / facts.revenueOrders) * 100) / 100;
}

const date = (value: unknown): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value));

/** A customer row as read from Postgres (columns or `to_jsonb`, camel-cased) to a CustomerState. */
export function toCustomerState(row: Readonly<Record<string, unknown>>): CustomerState {
  return {
    id: String(row.id),
    externalId: String(row.externalId),
    name: (row.name as string | null) ?? null,
    email: (row.email as string | null) ?? null,
    phone: (row.phone as string | null) ?? null,
    locale: (row.locale as string | null) ?? null,
    timezone: (row.timezone as string | null) ?? null,
    segment: (row.segment as string | null) ?? null,
    attributes: (row.attributes as Record<string, unknown> | null) ?? {},
    consent: (row.consent as Record<string, unknown> | null) ?? {},
    announcedStage: (row.announcedStage as LifecycleStage | null) ?? null,
    firstSeenAt: date(row.firstSeenAt) ?? new Date(0),
    firstPurchaseAt: date(row.firstPurchaseAt),
    lastPurchaseAt: date(row.lastPurchaseAt),
    ordersCount: Number(row.ordersCount ?? 0),
    revenueTotal: Number(row.revenueTotal ?? 0),
    revenueOrders: Number(row.revenueOrders ?? 0),
    lastActivityAt: date(row.lastActivityAt),
    firstUseAt: date(row.firstUseAt),
    firstDeliveryAt: date(row.firstDeliveryAt),
    lastCancellationAt: date(row.lastCancellationAt),
    lastRenewalAt: date(row.lastRenewalAt),
    lastInactivityAt: date(row.lastInactivityAt),
    nps: row.nps === null || row.nps === undefined ? null : Number(row.nps),
    createdAt: date(row.createdAt) ?? new Date(0),
    updatedAt: date(row.updatedAt) ?? new Date(0),
  };
}
