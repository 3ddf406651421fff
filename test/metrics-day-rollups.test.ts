import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitByDays } from '../src/modules/metrics/day-rollups.repository.js';
import { metricDaysFoldTask } from '../src/modules/metrics/day-rollups-fold.js';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { insertTouchpoints, postEvents } from './helpers/metrics.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Without a segment, LTV's revenue before an instant and response time read the day rollups
// purchase_days and contact_days (whole UTC days) plus the source rows of the partial days at
// the window's edges. Writers only insert delta rows; the worker folds them. Here the data changes
// after the fact, the rollups are folded in between, and every answer must equal the KPI's
// definition computed in TypeScript from the source rows, for windows cut anywhere in a day.

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let worker: TestWorker;

beforeAll(async () => {
  t = await startTestApp({ clock });
  worker = startTestWorker(t.deps, { consumers: [], tasks: [metricDaysFoldTask(t.deps)] });
});
afterAll(async () => {
  await worker.close();
  await t.close();
});

const H = 3_600_000;
const round2 = (v: number) => Math.round(v * 100) / 100;
const WINDOWS = [
  { from: '2026-11-01T00:00:00Z', to: '2026-11-15T00:00:00Z' }, // whole days only
  { from: '2026-11-01T05:30:00Z', to: '2026-11-14T17:45:00Z' }, // partial days at both edges
  { from: '2026-11-03T01:00:00Z', to: '2026-11-03T23:00:00Z' }, // inside one day
  { from: '2026-11-03T12:00:00Z', to: '2026-11-04T12:00:00Z' }, // two partial days, no whole one
  { from: '2026-10-01T00:00:00Z', to: '2026-11-20T12:00:00Z' }, // everything, up to now
];

async function kpi(key: string, name: string, w: { from: string; to: string }) {
  const response = await call(t.app, 'GET', `/v1/metrics/${name}?from=${w.from}&to=${w.to}`, key);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** LTV and response time by their definitions (README "Metrics"), from events and touchpoints. */
async function reference(workspaceId: string, w: { from: string; to: string }) {
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const purchases = (
    await sql<{ customer: string; at: Date; amount: string; currency: string }>`
      SELECT customer_id::text AS customer, occurred_at AS at, amount::text, currency FROM events
      WHERE workspace_id = ${workspaceId} AND type = 'purchase'`.execute(t.deps.db)
  ).rows;
  const before = purchases.filter((p) => p.at.getTime() < to);
  const revenue = before.filter((p) => p.currency === 'BRL').reduce((s, p) => s + Number(p.amount), 0);
  const buyers = new Set(before.map((p) => p.customer)).size;
  const contacts = (
    await sql<{ at: Date; due: Date; created: Date }>`
      SELECT coalesce(sent_at, completed_at) AS at, due_at AS due, created_at AS created FROM touchpoints
      WHERE workspace_id = ${workspaceId} AND coalesce(sent_at, completed_at) IS NOT NULL`.execute(t.deps.db)
  ).rows.filter((c) => c.at.getTime() >= from && c.at.getTime() < to);
  const hours = contacts.map(
    (c) => Math.max(0, c.at.getTime() - Math.max(c.due.getTime(), c.created.getTime())) / H,
  );
  return {
    ltv: buyers > 0 ? round2(revenue / buyers) : null,
    response: {
      value: hours.length > 0 ? round2(hours.reduce((s, h) => s + h, 0) / hours.length) : null,
      count: hours.length,
    },
  };
}

async function expectExact(key: string, workspaceId: string) {
  for (const w of WINDOWS) {
    const expected = await reference(workspaceId, w);
    const ltv = await kpi(key, 'ltv', w);
    expect(ltv.value, `ltv ${w.from}–${w.to}`).toBe(expected.ltv);
    const response = await kpi(key, 'response-time', w);
    expect(
      { value: response.value, count: response.details.touchpoints },
      `response ${w.from}–${w.to}`,
    ).toEqual(expected.response);
  }
}

/** The rollups' rows summed per day equal the same sums recomputed from the source rows. */
async function expectRollupsMatchSources(workspaceId: string) {
  const purchaseDays = await sql<{ day: Date; currency: string; revenue: string }>`
    SELECT day, currency, sum(revenue)::text AS revenue FROM purchase_days WHERE workspace_id = ${workspaceId}
    GROUP BY 1, 2 HAVING sum(revenue) <> 0 ORDER BY 1, 2`.execute(t.deps.db);
  const purchaseSources = await sql<{ day: Date; currency: string; revenue: string }>`
    SELECT date_trunc('day', occurred_at, 'UTC') AS day, currency, sum(amount)::text AS revenue FROM events
    WHERE workspace_id = ${workspaceId} AND type = 'purchase' GROUP BY 1, 2 ORDER BY 1, 2`.execute(t.deps.db);
  expect(purchaseDays.rows).toEqual(purchaseSources.rows);
  const contactDays = await sql<{ day: Date; contacts: string; seconds: string }>`
    SELECT day, sum(contacts)::text AS contacts, sum(seconds)::text AS seconds FROM contact_days
    WHERE workspace_id = ${workspaceId} GROUP BY 1 HAVING sum(contacts) <> 0 OR sum(seconds) <> 0 ORDER BY 1`.execute(
    t.deps.db,
  );
  const contactSources = await sql<{ day: Date; contacts: string; seconds: string }>`
    SELECT date_trunc('day', coalesce(sent_at, completed_at), 'UTC') AS day, count(*)::text AS contacts,
           sum(greatest(0, extract(epoch FROM coalesce(sent_at, completed_at) - greatest(due_at, created_at))))::text AS seconds
    FROM touchpoints WHERE workspace_id = ${workspaceId} AND coalesce(sent_at, completed_at) IS NOT NULL
    GROUP BY 1 ORDER BY 1`.execute(t.deps.db);
  expect(contactDays.rows).toEqual(contactSources.rows);
}

/** Rows per day (and currency) of a rollup: the most any has, and how many in all. */
const rowsPerDay = async (table: 'purchase_days' | 'contact_days', workspaceId: string) =>
  (
    await sql<{ most: number | null; rows: number }>`
      SELECT max(n)::int AS most, coalesce(sum(n), 0)::int AS rows FROM (
        SELECT count(*) AS n FROM ${sql.table(table)} WHERE workspace_id = ${workspaceId}
        GROUP BY day${table === 'purchase_days' ? sql`, currency` : sql``}
      ) x`.execute(t.deps.db)
  ).rows[0];

const purchase = (customer: string, at: string, amount: number, currency = 'BRL') => ({
  type: 'purchase',
  at,
  customer,
  properties: { amount, currency },
});

describe('splitByDays', () => {
  it('cuts a window into whole UTC days and its partial edges', () => {
    const d = (s: string) => new Date(s);
    expect(splitByDays(d('2026-11-01T05:30:00Z'), d('2026-11-03T10:00:00Z'))).toEqual({
      days: { from: d('2026-11-02T00:00:00Z'), to: d('2026-11-03T00:00:00Z') },
      edges: [
        { from: d('2026-11-01T05:30:00Z'), to: d('2026-11-02T00:00:00Z') },
        { from: d('2026-11-03T00:00:00Z'), to: d('2026-11-03T10:00:00Z') },
      ],
    });
    expect(splitByDays(d('2026-11-01T00:00:00Z'), d('2026-11-03T00:00:00Z'))).toEqual({
      days: { from: d('2026-11-01T00:00:00Z'), to: d('2026-11-03T00:00:00Z') },
      edges: [],
    });
    // No whole day inside: the window itself is the only edge.
    expect(splitByDays(d('2026-11-01T05:00:00Z'), d('2026-11-02T04:00:00Z'))).toEqual({
      days: null,
      edges: [{ from: d('2026-11-01T05:00:00Z'), to: d('2026-11-02T04:00:00Z') }],
    });
    expect(splitByDays(null, d('2026-11-03T10:00:00Z'))).toEqual({
      days: { from: null, to: d('2026-11-03T00:00:00Z') },
      edges: [{ from: d('2026-11-03T00:00:00Z'), to: d('2026-11-03T10:00:00Z') }],
    });
  });
});

describe('day rollups for LTV revenue and response time', () => {
  it('follow late events, touchpoints sent, re-timed and deleted, erasure and deletions, folded or not', async () => {
    const { id, key } = await createWorkspace(t.app);
    await postEvents(t, key, [
      purchase('a', '2026-11-01T00:00:00Z', 100), // at a midnight: a whole day's first instant
      purchase('a', '2026-11-03T23:59:59Z', 40.5),
      purchase('b', '2026-11-03T12:00:00Z', 200),
      purchase('b', '2026-11-14T18:00:00Z', 70, 'USD'), // other currency: no revenue, still a buyer
      purchase('c', '2026-11-14T17:00:00Z', 33.33),
    ]);
    await insertTouchpoints(t.deps.db, id, [
      { customer: 'a', step: 'x1', due: '2026-11-01T10:00:00Z', sent: '2026-11-01T13:30:00Z' },
      { customer: 'a', step: 'x2', due: '2026-11-03T22:00:00Z', sent: '2026-11-04T01:15:00Z' },
      {
        customer: 'b',
        step: 'x3',
        due: '2026-11-03T09:00:00Z',
        created: '2026-11-03T11:00:00Z',
        sent: '2026-11-03T12:00:00Z',
      },
      // Sent before it was due: 0 hours, not negative.
      { customer: 'b', step: 'x4', due: '2026-11-10T12:00:00Z', sent: '2026-11-10T08:00:00Z' },
      {
        customer: 'c',
        step: 'x5',
        channel: 'task',
        due: '2026-11-14T06:00:00Z',
        completed: '2026-11-14T17:50:00Z',
      },
      { customer: 'c', step: 'x6', due: '2026-11-12T06:00:00Z' }, // not sent (yet)
    ]);
    await expectExact(key, id);
    await expectRollupsMatchSources(id);

    // Late and out-of-order: purchases in the past, one before every other.
    await postEvents(t, key, [
      purchase('d', '2026-10-15T08:00:00Z', 500),
      purchase('a', '2026-11-14T20:00:00Z', 12.25),
      purchase('c', '2026-11-02T03:00:00Z', 1),
    ]);
    // Touchpoints: one sent later, a sent one re-timed (sent and due), one deleted.
    await sql`UPDATE touchpoints SET sent_at = '2026-11-13T00:00:00Z', status = 'sent'
              WHERE workspace_id = ${id} AND step_key = 'x6'`.execute(t.deps.db);
    await sql`UPDATE touchpoints SET sent_at = '2026-11-05T09:00:00Z', due_at = '2026-11-05T07:00:00Z'
              WHERE workspace_id = ${id} AND step_key = 'x2'`.execute(t.deps.db);
    await sql`UPDATE touchpoints SET created_at = '2026-11-01T12:00:00Z'
              WHERE workspace_id = ${id} AND step_key = 'x1'`.execute(t.deps.db);
    await sql`DELETE FROM touchpoints WHERE workspace_id = ${id} AND step_key = 'x4'`.execute(t.deps.db);
    await expectExact(key, id);
    await expectRollupsMatchSources(id);

    // Folding changes no answer and leaves one row per day.
    expect((await rowsPerDay('purchase_days', id))?.most).toBeGreaterThan(1);
    await worker.runNow('metric-days-fold');
    expect((await rowsPerDay('purchase_days', id))?.most).toBe(1);
    expect((await rowsPerDay('contact_days', id))?.most).toBe(1);
    await expectExact(key, id);
    await expectRollupsMatchSources(id);

    // Erasure rewrites the customer's events and keeps the aggregates; a purchase event deleted
    // (not the customer's first); a customer deleted with everything it had; a touchpoint unsent.
    expect((await call(t.app, 'DELETE', '/v1/customers/a', key)).statusCode).toBe(204);
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND type = 'purchase'
              AND occurred_at = '2026-11-14T17:00:00Z'`.execute(t.deps.db);
    await sql`DELETE FROM customers WHERE workspace_id = ${id} AND external_id = 'b'`.execute(t.deps.db);
    await sql`UPDATE touchpoints SET completed_at = NULL, status = 'pending'
              WHERE workspace_id = ${id} AND step_key = 'x5'`.execute(t.deps.db);
    await expectExact(key, id);
    await expectRollupsMatchSources(id);
    await worker.runNow('metric-days-fold');
    await expectExact(key, id);
    await expectRollupsMatchSources(id);
    // Days whose rows cancel out are folded away.
    const contactRows = await rowsPerDay('contact_days', id);
    const contactSourceDays = await sql<{ n: number }>`
      SELECT count(DISTINCT date_trunc('day', coalesce(sent_at, completed_at), 'UTC'))::int AS n FROM touchpoints
      WHERE workspace_id = ${id} AND coalesce(sent_at, completed_at) IS NOT NULL`.execute(t.deps.db);
    expect(contactRows?.rows).toBe(contactSourceDays.rows[0]?.n);
  });

  it('the summary reads them for the whole workspace and the source rows for a segment, with the same numbers', async () => {
    const { id, key } = await createWorkspace(t.app);
    await postEvents(t, key, [
      { ...purchase('s1', '2026-10-15T10:00:00Z', 80), segment: 'smb' },
      { ...purchase('s1', '2026-11-18T15:00:00Z', 20), segment: 'smb' },
      { ...purchase('s2', '2026-11-19T09:00:00Z', 300), segment: 'smb' },
    ]);
    await insertTouchpoints(t.deps.db, id, [
      { customer: 's1', step: 'y1', due: '2026-11-18T16:00:00Z', sent: '2026-11-18T18:30:00Z' },
      { customer: 's2', step: 'y2', due: '2026-11-19T10:00:00Z', sent: '2026-11-20T04:00:00Z' },
    ]);
    // Every customer is in smb: the segment's answers (source rows) equal the workspace's (rollups).
    const summary = async (query: string) => {
      const response = await call(t.app, 'GET', `/v1/metrics/summary${query}`, key);
      expect(response.statusCode, response.body).toBe(200);
      const data: { key: string; value: number | null; previous: number | null }[] = response.json().data;
      return Object.fromEntries(data.map((e) => [e.key, [e.value, e.previous]]));
    };
    const whole = await summary('');
    expect(whole).toEqual(await summary('?segment=smb'));
    // LTV before now: 400 over 2 buyers; before the window (Oct 21, noon): 80 over 1. Response: 2.5 h and 18 h.
    expect(whole.ltv).toEqual([200, 80]);
    expect(whole['response-time']).toEqual([10.25, null]);
    await expectRollupsMatchSources(id);
  });
});
