import type { Database } from '../../db/client.js';
import type { KpiScope, Window } from './metrics.repository.js';
import {
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

/** Every buyer and their revenue: the same for every window, read once per request. */
const allBuyers = (db: Database, scope: KpiScope) =>
  once(scope, 'all-buyers', ALL_TIME, () => buyersAndRevenue(db, scope));

/** Customers who bought before an instant: every buyer minus those whose first purchase is since. */
async function buyers(db: Database, scope: KpiScope, at: Date) {
  const [all, since] = await Promise.all([
    allBuyers(db, scope),
    once(scope, 'buyers-since', { from: at, to: at }, () => buyersSince(db, scope, at)),
  ]);
  return all.buyers - since;
}

/** Revenue of every purchase before `at`: the running total minus the purchases since. */
export async function revenueBefore(db: Database, scope: KpiScope, at: Date) {
  const [all, since, before] = await Promise.all([
    allBuyers(db, scope),
    revenueSince(db, scope, at),
    buyers(db, scope, at),
  ]);
  return { revenue: all.revenue - since, buyers: before };
}

/** Customers active at the window's start (bought before it, not churned then), and those of them who cancelled in it. */
export async function activeAndCancelled(db: Database, scope: KpiScope, w: Window) {
  const [bought, { churned, cancelled }] = await Promise.all([
    buyers(db, scope, w.from),
    once(scope, 'churn', w, () => churnCounts(db, scope, w)),
  ]);
  return { active: bought - churned, cancelled };
}
