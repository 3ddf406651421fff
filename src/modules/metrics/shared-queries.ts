import type { Database } from '../../db/client.js';
import { responseHoursByDays, revenueByDays } from './day-rollups.repository.js';
import { type KpiScope, responseHours, type Window } from './metrics.repository.js';
import {
  buyerCount,
  buyersAndRevenue,
  buyersSince,
  churnCounts,
  purchaseWindow,
  revenueSince,
} from './purchase-kpis.repository.js';

// Several KPIs share a query (churn, retention and LTV read the same counts): within one
// request (one scope object) each query runs once per window.
const shared = new WeakMap<KpiScope, Map<string, Promise<unknown>>>();
export function once<T>(scope: KpiScope, name: string, w: Window, run: () => Promise<T>): Promise<T> {
  let memo = shared.get(scope);
  if (!memo) {
    memo = new Map();
    shared.set(scope, memo);
  }
  const key = `${name}:${w.from.getTime()}:${w.to.getTime()}`;
  let result = memo.get(key) as Promise<T> | undefined;
  if (!result) {
    result = run();
    memo.set(key, result);
  }
  return result;
}

/** The window's purchases, read once per request and window (four KPIs and the next window's revenue retention). */
export const purchases = (db: Database, scope: KpiScope, w: Window) =>
  once(scope, 'purchases', w, () => purchaseWindow(db, scope, w));

const ALL_TIME: Window = { from: new Date(0), to: new Date(0) };

/** A segment's buyers and their revenue: the same for every window, read once per request. */
const allBuyers = (db: Database, scope: KpiScope) =>
  once(scope, 'all-buyers', ALL_TIME, () => buyersAndRevenue(db, scope));

/** Every buyer of the workspace (an index-only count), once per request. */
const buyersEver = (db: Database, scope: KpiScope) =>
  scope.segment === undefined
    ? once(scope, 'buyers-ever', ALL_TIME, () => buyerCount(db, scope))
    : allBuyers(db, scope).then((all) => all.buyers);

/** Customers who bought before an instant: every buyer minus those whose first purchase is since. */
async function buyers(db: Database, scope: KpiScope, at: Date) {
  const [all, since] = await Promise.all([
    buyersEver(db, scope),
    once(scope, 'buyers-since', { from: at, to: at }, () => buyersSince(db, scope, at)),
  ]);
  return all - since;
}

/**
 * Revenue of every purchase before `at`: for the whole workspace, the day rollup's sums; for a
 * segment, its customers' running totals minus the purchases since.
 */
export async function revenueBefore(db: Database, scope: KpiScope, at: Date) {
  const [revenue, before] = await Promise.all([
    scope.segment === undefined
      ? revenueByDays(db, scope, null, at)
      : Promise.all([allBuyers(db, scope), revenueSince(db, scope, at)]).then(
          ([all, since]) => all.revenue - since,
        ),
    buyers(db, scope, at),
  ]);
  return { revenue, buyers: before };
}

/** Response time's contacts and mean hours: the contact_days rollup for the whole workspace, a segment's touchpoints otherwise. */
export const responseTime = (db: Database, scope: KpiScope, w: Window) =>
  scope.segment === undefined ? responseHoursByDays(db, scope, w) : responseHours(db, scope, w);

/** Customers active at the window's start (bought before it, not churned then), and those of them who cancelled in it. */
export async function activeAndCancelled(db: Database, scope: KpiScope, w: Window) {
  const [bought, { churned, cancelled }] = await Promise.all([
    buyers(db, scope, w.from),
    once(scope, 'churn', w, () => churnCounts(db, scope, w)),
  ]);
  return { active: bought - churned, cancelled };
}
