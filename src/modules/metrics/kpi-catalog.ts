import type { Database } from '../../db/client.js';
import type { KpiKey } from '../workspaces/settings.js';
import {
  ATTRIBUTION_DAYS,
  firstResponseHours,
  type KpiScope,
  npsCounts,
  resolutionCounts,
  surveyScores,
  UPSELL_TEMPLATE_PATTERN,
  upsellCounts,
  type Window,
} from './metrics.repository.js';
import { cohortRevenue } from './purchase-kpis.repository.js';
import { activeAndCancelled, once, purchases, responseTime, revenueBefore } from './shared-queries.js';
import { previousWindow } from './time-windows.js';

export type KpiUnit = 'score' | 'percent' | 'currency' | 'hours' | 'count';

/** A KPI over one window: null when there is nothing to measure (no denominator). */
export interface KpiValue {
  readonly value: number | null;
  /** The parts the value is made of (counts, sums), and for LTV both of its forms. */
  readonly details: Readonly<Record<string, number | null>>;
}

export interface KpiDefinition {
  readonly key: KpiKey;
  readonly unit: KpiUnit;
  /** In words, what is counted and divided; stated in every answer. */
  readonly formula: string;
  compute(db: Database, scope: KpiScope, window: Window): Promise<KpiValue>;
}

/** Two decimals: values are shown to people and compared with targets, not summed further. */
export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** `100 × part ÷ whole`, or null when the whole is zero. */
const percent = (part: number, whole: number): number | null =>
  whole > 0 ? round2((100 * part) / whole) : null;
const ratio = (part: number, whole: number): number | null => (whole > 0 ? round2(part / whole) : null);
const hours = (value: number | null, count: number): number | null =>
  count > 0 && value !== null ? round2(value) : null;

const WINDOW = 'in the window [from, to)';
const SEGMENT = 'With `segment`, only customers whose current segment is that one.';

async function churnRate(db: Database, scope: KpiScope, w: Window) {
  const { active, cancelled } = await activeAndCancelled(db, scope, w);
  return { active, cancelled, churn: percent(cancelled, active) };
}

export const KPIS: readonly KpiDefinition[] = [
  {
    key: 'nps',
    unit: 'score',
    formula:
      `Net Promoter Score: of each customer's latest NPS answer ${WINDOW}, % promoters (9–10) − % ` +
      `detractors (0–6), from −100 to 100. No answer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { answered, promoters, detractors } = await npsCounts(db, scope, w);
      return {
        value: answered > 0 ? round2((100 * (promoters - detractors)) / answered) : null,
        details: { answered, promoters, detractors },
      };
    },
  },
  {
    key: 'churn',
    unit: 'percent',
    formula:
      `Customers active at \`from\` who cancelled ${WINDOW} ÷ customers active at \`from\` × 100. Active: a ` +
      'first purchase before `from`, and not churned then (churned: the latest cancellation before `from` ' +
      `has no purchase or renewal after it). No active customer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { active, cancelled, churn } = await churnRate(db, scope, w);
      return { value: churn, details: { active, cancelled } };
    },
  },
  {
    key: 'retention',
    unit: 'percent',
    formula:
      `Customer retention, 100 − churn: customers active at \`from\` who did not cancel ${WINDOW} ÷ ` +
      `customers active at \`from\` × 100 (active as in churn). No active customer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { active, cancelled } = await churnRate(db, scope, w);
      return {
        value: percent(active - cancelled, active),
        details: { active, retained: active - cancelled },
      };
    },
  },
  {
    key: 'revenue-retention',
    unit: 'percent',
    formula:
      'Revenue retention: the customers who bought in the previous window of equal length [from − (to − ' +
      `from), from); their purchase revenue ${WINDOW} ÷ their purchase revenue in that previous window × 100 ` +
      `(workspace currency; may exceed 100). No such revenue → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      // The cohort's revenue and size in the previous window are that window's revenue and buyers.
      const previous = previousWindow(w);
      const [cohort, after] = await Promise.all([
        purchases(db, scope, previous),
        cohortRevenue(db, scope, w, previous),
      ]);
      const before = cohort.revenue;
      return {
        value: percent(after, before),
        details: { cohort: cohort.buyers, previous_revenue: round2(before), retained_revenue: round2(after) },
      };
    },
  },
  {
    key: 'ltv',
    unit: 'currency',
    formula:
      'value = historical LTV: revenue of every purchase before `to` ÷ customers with a purchase before `to` ' +
      '(workspace currency). details.predictive = average ticket × purchase frequency ÷ churn, all ' +
      `${WINDOW}: (revenue ÷ orders) × (orders ÷ buyers) ÷ (churn % ÷ 100); null when churn is 0 or ` +
      `no_data. No buyer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const [history, window, churn] = await Promise.all([
        revenueBefore(db, scope, w.to),
        purchases(db, scope, w),
        churnRate(db, scope, w),
      ]);
      const perBuyer = window.buyers > 0 ? window.revenue / window.buyers : null;
      // The churn fraction unrounded: the rounded percent would shift the quotient.
      const predictive =
        perBuyer !== null && churn.cancelled > 0 ? round2(perBuyer / (churn.cancelled / churn.active)) : null;
      return {
        value: ratio(history.revenue, history.buyers),
        details: {
          historical: ratio(history.revenue, history.buyers),
          predictive,
          average_ticket: ratio(window.revenue, window.orders),
          purchase_frequency: ratio(window.orders, window.buyers),
          churn_percent: churn.churn,
        },
      };
    },
  },
  {
    key: 'average-ticket',
    unit: 'currency',
    formula: `Revenue of purchases ${WINDOW} ÷ their number (workspace currency; purchases in other currencies are left out). No purchase → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { revenue, orders } = await purchases(db, scope, w);
      return { value: ratio(revenue, orders), details: { revenue: round2(revenue), orders } };
    },
  },
  {
    key: 'upsell-conversion',
    unit: 'percent',
    formula:
      `Customers who got an upsell offer ${WINDOW} and bought within ${ATTRIBUTION_DAYS} days after one of ` +
      'them ÷ customers who got one × 100. An upsell offer: a touchpoint whose template key matches ' +
      `/${UPSELL_TEMPLATE_PATTERN}/ (the seed's upgrade-offer steps), got when sent (email, webhook) or ` +
      `completed (task). No offer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { offered, converted } = await upsellCounts(db, scope, w);
      return { value: percent(converted, offered), details: { offered, converted } };
    },
  },
  {
    key: 'cross-sell-rate',
    unit: 'percent',
    formula:
      `Buyers ${WINDOW} who bought, in the window, a product category their first purchase ever did not ` +
      'include (that first purchase itself does not count) ÷ buyers in the window × 100. Categories come from ' +
      `\`products[].category\`. No buyer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { allBuyers, crossBuyers } = await purchases(db, scope, w);
      return {
        value: percent(crossBuyers, allBuyers),
        details: { buyers: allBuyers, cross_buyers: crossBuyers },
      };
    },
  },
  {
    key: 'response-time',
    unit: 'hours',
    formula:
      `Touchpoints that reached the customer ${WINDOW} — emails and webhooks by sent time, tasks by ` +
      'completion time — mean hours from when each became actionable (the later of due and created) to ' +
      `that moment (0 when earlier). None → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { count, hours: h } = await responseTime(db, scope, w);
      return { value: hours(h, count), details: { touchpoints: count } };
    },
  },
  {
    key: 'first-response-time',
    unit: 'hours',
    formula:
      `Support tickets opened ${WINDOW} that have a support_ticket.first_response: mean hours from the ` +
      `opening to the first response (tickets by ticket_id). None → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { count, hours: h } = await firstResponseHours(db, scope, w);
      return { value: hours(h, count), details: { tickets: count } };
    },
  },
  {
    key: 'time-to-resolution',
    unit: 'hours',
    formula:
      `Support tickets resolved ${WINDOW} (and opened at any time): mean hours from the opening to the ` +
      `latest support_ticket.resolved in the window. None → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { count, hours: h } = await once(scope, 'resolution', w, () => resolutionCounts(db, scope, w));
      return { value: hours(h, count), details: { tickets: count } };
    },
  },
  {
    key: 'first-contact-resolution',
    unit: 'percent',
    formula:
      `Support tickets resolved ${WINDOW} with no support_ticket.reopened event before \`to\` ÷ tickets ` +
      `resolved in the window × 100 (tickets with an opening). None → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { count, firstContact } = await once(scope, 'resolution', w, () =>
        resolutionCounts(db, scope, w),
      );
      return {
        value: percent(firstContact, count),
        details: { resolved: count, first_contact: firstContact },
      };
    },
  },
  {
    key: 'ces',
    unit: 'score',
    formula: `Customer Effort Score: the mean of every CES answer (1–7) ${WINDOW}. No answer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { answers, total } = await surveyScores(db, scope, w, 'ces', 8);
      return { value: ratio(total, answers), details: { answers } };
    },
  },
  {
    key: 'csat',
    unit: 'percent',
    formula: `CSAT: CSAT answers ${WINDOW} scoring 4 or 5 (of 1–5) ÷ all CSAT answers in the window × 100. No answer → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { answers, high } = await surveyScores(db, scope, w, 'csat', 4);
      return { value: percent(high, answers), details: { answers, satisfied: high } };
    },
  },
  {
    key: 'lead-time',
    unit: 'hours',
    formula:
      `Post-sale lead time: for each purchase ${WINDOW}, hours from the sale to the first touchpoint that ` +
      'reached the customer at or after it (sent, or task completed); the mean over purchases that have ' +
      `one (details.purchases counts them all). None → no_data. ${SEGMENT}`,
    async compute(db, scope, w) {
      const { sales, contacted, leadHours } = await purchases(db, scope, w);
      return { value: hours(leadHours, contacted), details: { purchases: sales, contacted } };
    },
  },
];

const BY_KEY = new Map(KPIS.map((kpi) => [kpi.key as string, kpi]));

/** The definition of a KPI by its path name; undefined for an unknown one. */
export function kpiDefinition(key: string): KpiDefinition | undefined {
  return BY_KEY.get(key);
}
