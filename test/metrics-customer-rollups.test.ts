import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { insertTouchpoints, postEvents } from './helpers/metrics.js';

// Churn, cross-sell and lead time read per-customer rollups (customer_churn_periods, and per
// purchase adds_category and first_contact_at), kept by triggers on events and touchpoints. Here
// the data changes after the fact — late and out-of-order events, duplicates, erasure, deleted
// events and customers, touchpoints sent, unsent or deleted later — and every answer must equal
// the KPI's definition computed from scratch, in TypeScript, from the source rows.

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ clock });
});
afterAll(async () => {
  await t.close();
});

const NOV = { from: '2026-11-01T00:00:00Z', to: '2026-11-15T00:00:00Z' };
const H = 3_600_000;

async function kpi(key: string, name: string, w: { from: string; to: string }, segment?: string) {
  const query = `from=${w.from}&to=${w.to}${segment ? `&segment=${segment}` : ''}`;
  const response = await call(t.app, 'GET', `/v1/metrics/${name}?${query}`, key);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** The three KPIs' parts by their definitions (README "Metrics"), from the events and touchpoints. */
async function reference(workspaceId: string, w: { from: string; to: string }, segment?: string) {
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const events = (
    await sql<{ id: string; customer: string; type: string; at: Date; products: unknown }>`
      SELECT e.id::text, e.customer_id::text AS customer, e.type, e.occurred_at AS at, e.properties -> 'products' AS products
      FROM events e JOIN customers c ON c.workspace_id = e.workspace_id AND c.id = e.customer_id
      WHERE e.workspace_id = ${workspaceId} AND e.type IN ('purchase', 'renewal', 'cancellation')
        AND (${segment ?? null}::text IS NULL OR c.segment = ${segment ?? null})`.execute(t.deps.db)
  ).rows;
  const contacts = (
    await sql<{ customer: string; at: Date }>`
      SELECT customer_id::text AS customer, coalesce(sent_at, completed_at) AS at FROM touchpoints
      WHERE workspace_id = ${workspaceId} AND coalesce(sent_at, completed_at) IS NOT NULL`.execute(t.deps.db)
  ).rows;
  const categories = (products: unknown, stringsOnly: boolean): string[] =>
    Array.isArray(products)
      ? products
          .map((p) => (p as { category?: unknown }).category)
          .filter((c) => c !== undefined && c !== null && (!stringsOnly || typeof c === 'string'))
          .map(String)
      : [];
  const byCustomer = new Map<string, typeof events>();
  for (const e of events) byCustomer.set(e.customer, [...(byCustomer.get(e.customer) ?? []), e]);
  let active = 0;
  let cancelled = 0;
  let buyers = 0;
  let crossers = 0;
  for (const list of byCustomer.values()) {
    const times = (type: string) => list.filter((e) => e.type === type).map((e) => e.at.getTime());
    const purchases = times('purchase');
    const lastCancel = Math.max(...times('cancellation').filter((at) => at < from));
    const comeback = [...purchases, ...times('renewal')].some((at) => at > lastCancel && at < from);
    const isActive = purchases.some((at) => at < from) && (lastCancel === -Infinity || comeback);
    if (isActive) active++;
    if (isActive && times('cancellation').some((at) => at >= from && at < to)) cancelled++;
    const bought = list.filter((e) => e.type === 'purchase');
    const inWindow = bought.filter((e) => e.at.getTime() >= from && e.at.getTime() < to);
    if (inWindow.length === 0) continue;
    buyers++;
    const first = [...bought].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1))[0];
    const had = new Set(categories(first?.products, true));
    if (inWindow.some((e) => e.id !== first?.id && categories(e.products, false).some((c) => !had.has(c))))
      crossers++;
  }
  let sales = 0;
  let contacted = 0;
  let hours = 0;
  for (const e of events) {
    if (e.type !== 'purchase' || e.at.getTime() < from || e.at.getTime() >= to) continue;
    sales++;
    const after = contacts
      .filter((c) => c.customer === e.customer && c.at.getTime() >= e.at.getTime())
      .map((c) => c.at.getTime());
    if (after.length === 0) continue;
    contacted++;
    hours += (Math.min(...after) - e.at.getTime()) / H;
  }
  return {
    churn: { active, cancelled },
    crossSell: { buyers, cross_buyers: crossers },
    leadTime: {
      purchases: sales,
      contacted,
      hours: contacted > 0 ? Math.round((hours / contacted) * 100) / 100 : null,
    },
  };
}

async function expectExact(key: string, workspaceId: string, segment?: string, withChurn = true) {
  for (const w of [NOV, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }]) {
    const expected = await reference(workspaceId, w, segment);
    if (withChurn) expect((await kpi(key, 'churn', w, segment)).details).toEqual(expected.churn);
    expect((await kpi(key, 'cross-sell-rate', w, segment)).details).toEqual(expected.crossSell);
    const lead = await kpi(key, 'lead-time', w, segment);
    expect(lead.details).toEqual({
      purchases: expected.leadTime.purchases,
      contacted: expected.leadTime.contacted,
    });
    expect(lead.value).toBe(expected.leadTime.hours);
  }
}

const purchase = (customer: string, at: string, categories: string[]) => ({
  type: 'purchase',
  at,
  customer,
  properties: { amount: 10, products: categories.map((category) => ({ sku: category, category })) },
});
const cancellation = (customer: string, at: string) => ({ type: 'cancellation', at, customer });
const renewal = (customer: string, at: string) => ({ type: 'renewal', at, customer });

describe('per-customer rollups', () => {
  it('churn follows out-of-order and late events, a duplicate, a deleted event, erasure and a deleted customer', async () => {
    const { id, key } = await createWorkspace(t.app);
    const churn = async () => (await kpi(key, 'churn', NOV)).details;
    // a churned on Oct 1 (before the window); b active, cancels in it.
    await postEvents(t, key, [
      purchase('a', '2026-09-01T12:00:00Z', ['bags']),
      cancellation('a', '2026-10-01T12:00:00Z'),
      purchase('b', '2026-09-01T12:00:00Z', ['bags']),
      cancellation('b', '2026-11-05T12:00:00Z'),
    ]);
    expect(await churn()).toEqual({ active: 1, cancelled: 1 });
    // c out of order: its cancellation, then a renewal after it, then (late) its first purchase
    // before both: renewed before the window → active.
    await postEvents(t, key, [cancellation('c', '2026-10-05T12:00:00Z')]);
    await postEvents(t, key, [renewal('c', '2026-10-20T12:00:00Z')]);
    expect(await churn()).toEqual({ active: 1, cancelled: 1 });
    await postEvents(t, key, [purchase('c', '2026-09-01T12:00:00Z', ['bags'])]);
    expect(await churn()).toEqual({ active: 2, cancelled: 1 });
    // The same cancellation again is a duplicate: nothing changes.
    const again = {
      events: [
        { id: 'c-cancel', type: 'cancellation', occurred_at: '2026-10-06T12:00:00Z', customer: { id: 'c' } },
      ],
    };
    for (const status of ['accepted', 'duplicate']) {
      const response = await call(t.app, 'POST', '/v1/events/batch', key, again);
      expect(response.json().results[0].status).toBe(status);
      expect(await churn()).toEqual({ active: 2, cancelled: 1 });
    }
    // Without its renewal, c is churned since Oct 5 (a second cancellation on Oct 6 is the same period).
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND type = 'renewal'`.execute(t.deps.db);
    expect(await churn()).toEqual({ active: 1, cancelled: 1 });
    const periods = await sql<{ started_at: Date; ended_at: Date | null }>`
      SELECT p.started_at, p.ended_at FROM customer_churn_periods p JOIN customers c
        ON c.workspace_id = p.workspace_id AND c.id = p.customer_id
      WHERE p.workspace_id = ${id} AND c.external_id = 'c'`.execute(t.deps.db);
    expect(periods.rows).toEqual([{ startedAt: new Date('2026-10-05T12:00:00Z'), endedAt: null }]);
    // Erasure keeps the facts: same answer. Deleting b (its events cascade) removes it.
    expect((await call(t.app, 'DELETE', '/v1/customers/b', key)).statusCode).toBe(204);
    expect(await churn()).toEqual({ active: 1, cancelled: 1 });
    await sql`DELETE FROM customers WHERE workspace_id = ${id} AND id IN (
      SELECT customer_id FROM events WHERE workspace_id = ${id} AND occurred_at = '2026-11-05T12:00:00Z')`.execute(
      t.deps.db,
    );
    expect(await churn()).toEqual({ active: 0, cancelled: 0 });
    expect((await kpi(key, 'churn', NOV)).value).toBeNull();
    await expectExact(key, id);
  });

  it('lead time and cross-sell follow touchpoints sent or deleted later and a late, then deleted, first purchase', async () => {
    const { id, key } = await createWorkspace(t.app);
    const lead = async () => {
      const body = await kpi(key, 'lead-time', NOV);
      return { value: body.value, ...body.details };
    };
    await postEvents(t, key, [
      purchase('d', '2026-11-02T12:00:00Z', ['toys']),
      purchase('d', '2026-11-04T12:00:00Z', ['games']),
    ]);
    // Sent 18 h after the first sale, before the second: one of two purchases contacted.
    await insertTouchpoints(t.deps.db, id, [
      { customer: 'd', due: '2026-11-03T06:00:00Z', sent: '2026-11-03T06:00:00Z' },
      { customer: 'd', due: '2026-11-05T12:00:00Z', step: 'later' },
    ]);
    expect(await lead()).toEqual({ value: 18, purchases: 2, contacted: 1 });
    // The second touchpoint is sent later on (an update): 24 h after the second sale; mean 21 h.
    await sql`UPDATE touchpoints SET sent_at = '2026-11-05T12:00:00Z', status = 'sent'
              WHERE workspace_id = ${id} AND step_key = 'later'`.execute(t.deps.db);
    expect(await lead()).toEqual({ value: 21, purchases: 2, contacted: 2 });
    // The first one deleted: the first sale's first contact is now the later one, 72 h; mean 48 h.
    await sql`DELETE FROM touchpoints WHERE workspace_id = ${id} AND step_key = 'welcome'`.execute(t.deps.db);
    expect(await lead()).toEqual({ value: 48, purchases: 2, contacted: 2 });
    // Unsent again (status back to failed, say): nothing contacted.
    await sql`UPDATE touchpoints SET sent_at = NULL WHERE workspace_id = ${id}`.execute(t.deps.db);
    expect(await lead()).toEqual({ value: null, purchases: 2, contacted: 0 });

    // Cross-sell: games is new to d's first purchase (toys).
    const cross = async () => (await kpi(key, 'cross-sell-rate', NOV)).details;
    expect(await cross()).toEqual({ buyers: 1, cross_buyers: 1 });
    // A late first purchase with both categories: nothing new any more; deleted, back again.
    await postEvents(t, key, [purchase('d', '2026-10-01T12:00:00Z', ['toys', 'games'])]);
    expect(await cross()).toEqual({ buyers: 1, cross_buyers: 0 });
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND occurred_at = '2026-10-01T12:00:00Z'`.execute(
      t.deps.db,
    );
    expect(await cross()).toEqual({ buyers: 1, cross_buyers: 1 });
    // The erasure's scrub rewrites the events: same answers.
    expect((await call(t.app, 'DELETE', '/v1/customers/d', key)).statusCode).toBe(204);
    expect(await cross()).toEqual({ buyers: 1, cross_buyers: 1 });
    expect(await lead()).toEqual({ value: null, purchases: 2, contacted: 0 });
    // Not churn: its "first purchase before `from`" is the customer's stored fact, which a purchase
    // deleted alone (never done by the service: events go with their customer) leaves behind.
    await expectExact(key, id, undefined, false);
  });

  it('equal the definitions after a shuffled history with ties, duplicates and later changes', async () => {
    const { id, key } = await createWorkspace(t.app);
    let seed = 42;
    const random = () => {
      // mulberry32: deterministic, so a failure reproduces.
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const customers = Array.from({ length: 12 }, (_, i) => `r${i}`);
    // Times on a 12-hour grid from Sep 1 to Nov 14, so events of one customer often coincide.
    const at = () =>
      new Date(Date.parse('2026-09-01T00:00:00Z') + Math.floor(random() * 150) * 12 * H).toISOString();
    const events = Array.from({ length: 90 }, () => {
      const customer = pick(customers);
      const type = pick(['purchase', 'purchase', 'cancellation', 'renewal']);
      if (type === 'purchase') {
        const cats = ['toys', 'games', 'books'].filter(() => random() < 0.5);
        return { ...purchase(customer, at(), cats), segment: pick(['smb', 'mid']) };
      }
      return { type, at: at(), customer, segment: pick(['smb', 'mid']) };
    });
    // Posted in three shuffled batches; the first batch is posted again (all duplicates).
    const shuffled = [...events].map((e, i) => ({ ...e, id: `rnd-${i}` })).sort(() => random() - 0.5);
    const post = async (batch: typeof shuffled, status: string) => {
      const body = {
        events: batch.map((e) => ({
          id: e.id,
          type: e.type,
          occurred_at: e.at,
          customer: { id: e.customer, segment: e.segment },
          properties: 'properties' in e ? e.properties : {},
        })),
      };
      const response = await call(t.app, 'POST', '/v1/events/batch', key, body);
      expect(response.statusCode, response.body).toBe(200);
      for (const result of response.json().results) expect(result.status).toBe(status);
    };
    await post(shuffled.slice(0, 30), 'accepted');
    await post(shuffled.slice(30, 60), 'accepted');
    await post(shuffled.slice(0, 30), 'duplicate');
    await post(shuffled.slice(60), 'accepted');
    const ids = await sql<{
      external_id: string;
    }>`SELECT external_id FROM events WHERE workspace_id = ${id}`.execute(t.deps.db);
    expect(ids.rows).toHaveLength(90);
    await insertTouchpoints(
      t.deps.db,
      id,
      Array.from({ length: 30 }, (_, i) => {
        const when = at();
        return {
          customer: pick(customers.filter((c) => events.some((e) => e.customer === c))),
          step: `s${i}`,
          due: when,
          ...(random() < 0.5 ? { sent: when } : random() < 0.5 ? { completed: when } : {}),
        };
      }),
    );
    await expectExact(key, id);
    await expectExact(key, id, 'smb');

    // Later changes: touchpoints sent, re-timed and deleted; renewals and a cancellation deleted;
    // a customer erased, one deleted, one moved to another segment.
    await sql`UPDATE touchpoints SET sent_at = due_at + interval '30 hours'
              WHERE workspace_id = ${id} AND sent_at IS NULL AND completed_at IS NULL`.execute(t.deps.db);
    await sql`UPDATE touchpoints SET completed_at = completed_at - interval '5 days'
              WHERE workspace_id = ${id} AND completed_at IS NOT NULL`.execute(t.deps.db);
    await sql`DELETE FROM touchpoints WHERE workspace_id = ${id} AND step_key IN ('s1', 's2', 's3', 's5', 's8')`.execute(
      t.deps.db,
    );
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND (type = 'renewal' OR id = (
      SELECT min(id::text)::uuid FROM events WHERE workspace_id = ${id} AND type = 'cancellation'))`.execute(
      t.deps.db,
    );
    expect((await call(t.app, 'DELETE', '/v1/customers/r1', key)).statusCode).toBe(204);
    await sql`DELETE FROM customers WHERE workspace_id = ${id} AND external_id = 'r2'`.execute(t.deps.db);
    await postEvents(t, key, [
      { type: 'activity', at: '2026-11-10T00:00:00Z', customer: 'r3', segment: 'mid' },
    ]);
    await expectExact(key, id);
    await expectExact(key, id, 'smb');
    await expectExact(key, id, 'mid');
  });
});

describe('the refresh functions', () => {
  // For a few customers they switch to generic plans while they run (migration 20261208010000);
  // the rest of the transaction — apply_plan, the caller's own statements — must keep its setting.
  it('leave the plan cache mode as they found it, for a few customers and for many', async () => {
    const { id: workspaceId } = await createWorkspace(t.app);
    const few = [workspaceId];
    const many = Array.from({ length: 100 }, () => workspaceId);
    const modes = await t.deps.db.transaction().execute(async (trx) => {
      const seen: string[] = [];
      for (const mode of ['auto', 'force_custom_plan']) {
        await sql`SELECT set_config('plan_cache_mode', ${mode}, true)`.execute(trx);
        for (const ids of [few, many]) {
          await sql`SELECT refresh_churn_periods(${ids}::uuid[], ${ids}::uuid[]),
                           refresh_purchase_facts(${ids}::uuid[], ${ids}::uuid[])`.execute(trx);
          const { rows } = await sql<{
            mode: string;
          }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(trx);
          seen.push(rows[0]!.mode);
        }
      }
      return seen;
    });
    expect(modes).toEqual(['auto', 'auto', 'force_custom_plan', 'force_custom_plan']);
  });
});
