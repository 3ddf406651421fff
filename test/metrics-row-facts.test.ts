import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

// Facts stored on rollup rows so a window needs no look-up or grouping per customer or ticket:
// each purchase's previous purchases (any, same currency, adding a category) and each ticket
// event's ticket facts (first opening, first response, first reopening). Kept per customer and per
// ticket by triggers. Here a shuffled history with ties, late events, duplicates, deletions and
// erasure, and every answer must equal the KPI's definition computed in TypeScript from the events.

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ clock });
});
afterAll(async () => {
  await t.close();
});

const H = 3_600_000;
const round2 = (v: number) => Math.round(v * 100) / 100;
const WINDOWS = [
  { from: '2026-11-01T00:00:00Z', to: '2026-11-15T00:00:00Z' },
  { from: '2026-10-18T00:00:00Z', to: '2026-11-01T00:00:00Z' },
  { from: '2026-10-20T06:00:00Z', to: '2026-11-09T18:00:00Z' },
];

function randomOf(seed: number) {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function kpi(key: string, name: string, w: { from: string; to: string }) {
  const response = await call(t.app, 'GET', `/v1/metrics/${name}?from=${w.from}&to=${w.to}`, key);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

interface Row {
  readonly id: string;
  readonly customer: string;
  readonly type: string;
  readonly at: Date;
  readonly properties: Record<string, unknown>;
  readonly currency: string | null;
  readonly amount: string | null;
}

const sourceEvents = async (workspaceId: string) =>
  (
    await sql<Row>`
      SELECT id::text, customer_id::text AS customer, type, occurred_at AS at, properties, currency, amount::text
      FROM events WHERE workspace_id = ${workspaceId}`.execute(t.deps.db)
  ).rows;

/** Purchase KPIs' parts by their definitions. */
function purchaseReference(events: readonly Row[], w: { from: string; to: string }) {
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const length = to - from;
  const purchases = events.filter((e) => e.type === 'purchase');
  const inBrl = (e: Row, a: number, b: number) =>
    e.currency === 'BRL' && e.at.getTime() >= a && e.at.getTime() < b;
  const cohort = new Set(purchases.filter((e) => inBrl(e, from - length, from)).map((e) => e.customer));
  const previousRevenue = purchases
    .filter((e) => inBrl(e, from - length, from))
    .reduce((s, e) => s + Number(e.amount), 0);
  const retained = purchases
    .filter((e) => inBrl(e, from, to) && cohort.has(e.customer))
    .reduce((s, e) => s + Number(e.amount), 0);
  const window = purchases.filter((e) => inBrl(e, from, to));
  const buyers = new Set(window.map((e) => e.customer)).size;
  return {
    retention: {
      cohort: cohort.size,
      previous_revenue: round2(previousRevenue),
      retained_revenue: round2(retained),
    },
    frequency: buyers > 0 ? round2(window.length / buyers) : null,
  };
}

/** Ticket KPIs by the queries' definitions (tickets by ticket_id; an opening needed). */
function ticketReference(events: readonly Row[], w: { from: string; to: string }) {
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  const tickets = events.filter((e) => e.type.startsWith('support_ticket.'));
  const ticketOf = (e: Row) => (typeof e.properties.ticket_id === 'string' ? e.properties.ticket_id : null);
  const of = (ticket: string | null, type: string) =>
    ticket === null
      ? []
      : tickets
          .filter((e) => ticketOf(e) === ticket && e.type === `support_ticket.${type}`)
          .map((e) => e.at.getTime());
  const inWindow = (e: Row) => e.at.getTime() >= from && e.at.getTime() < to;
  const groups = (type: string) => {
    const map = new Map<string | null, number[]>();
    for (const e of tickets.filter((x) => x.type === `support_ticket.${type}` && inWindow(x)))
      map.set(ticketOf(e), [...(map.get(ticketOf(e)) ?? []), e.at.getTime()]);
    return map;
  };
  // First response: groups of the window's openings; a ticket without a response is neither in
  // the mean nor counted.
  let responded = 0;
  let responseHours = 0;
  const opened = groups('opened');
  for (const [ticket, times] of opened) {
    const responses = of(ticket, 'first_response');
    if (responses.length === 0) continue;
    responded++;
    responseHours += Math.max(0, Math.min(...responses) - Math.min(...times)) / H;
  }
  let resolved = 0;
  let resolveHours = 0;
  let firstContact = 0;
  for (const [ticket, times] of groups('resolved')) {
    const openings = of(ticket, 'opened').filter((at) => at < to);
    if (openings.length === 0) continue;
    resolved++;
    resolveHours += Math.max(0, Math.max(...times) - Math.min(...openings)) / H;
    if (!of(ticket, 'reopened').some((at) => at < to)) firstContact++;
  }
  return {
    firstResponse: { value: responded > 0 ? round2(responseHours / responded) : null, tickets: responded },
    resolution: { value: resolved > 0 ? round2(resolveHours / resolved) : null, tickets: resolved },
    fcr: resolved > 0 ? round2((100 * firstContact) / resolved) : null,
  };
}

async function expectExact(key: string, workspaceId: string) {
  const events = await sourceEvents(workspaceId);
  for (const w of WINDOWS) {
    const p = purchaseReference(events, w);
    expect((await kpi(key, 'revenue-retention', w)).details, `retention ${w.from}`).toEqual(p.retention);
    expect((await kpi(key, 'ltv', w)).details.purchase_frequency, `frequency ${w.from}`).toBe(p.frequency);
    const k = ticketReference(events, w);
    const first = await kpi(key, 'first-response-time', w);
    expect({ value: first.value, tickets: first.details.tickets }, `first response ${w.from}`).toEqual(
      k.firstResponse,
    );
    const resolution = await kpi(key, 'time-to-resolution', w);
    expect({ value: resolution.value, tickets: resolution.details.tickets }, `resolution ${w.from}`).toEqual(
      k.resolution,
    );
    expect((await kpi(key, 'first-contact-resolution', w)).value, `fcr ${w.from}`).toBe(k.fcr);
  }
}

describe('facts stored on purchase and ticket rows', () => {
  it('equal the definitions after a shuffled history with ties, late events, deletions and erasure', async () => {
    const { id, key } = await createWorkspace(t.app);
    const random = randomOf(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    // A 12-hour grid from Sep 20 to Nov 20: ties within a customer and a ticket are common.
    const at = () =>
      new Date(Date.parse('2026-09-20T00:00:00Z') + Math.floor(random() * 120) * 12 * H).toISOString();
    const customers = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const tickets = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
    const events = Array.from({ length: 160 }, (_, i) => {
      const customer = pick(customers);
      if (random() < 0.5) {
        const currency = random() < 0.8 ? 'BRL' : 'USD';
        const category = pick(['toys', 'games', 'books']);
        return {
          id: `fx-${i}`,
          type: 'purchase',
          occurred_at: at(),
          customer: { id: customer },
          properties: {
            amount: 10 + Math.floor(random() * 90),
            currency,
            products: [{ sku: category, category }],
          },
        };
      }
      const ticket = pick(tickets);
      return {
        id: `fx-${i}`,
        type: `support_ticket.${pick(['opened', 'opened', 'first_response', 'resolved', 'resolved', 'reopened'])}`,
        occurred_at: at(),
        customer: { id: customer },
        properties: { ticket_id: ticket },
      };
    });
    const post = async (batch: typeof events, status: string) => {
      const response = await call(t.app, 'POST', '/v1/events/batch', key, { events: batch });
      expect(response.statusCode, response.body).toBe(200);
      for (const result of response.json().results)
        expect(result.status, JSON.stringify(result)).toBe(status);
    };
    // Shuffled (so later-dated events often arrive first), in three batches; one posted twice.
    const shuffled = [...events].sort(() => random() - 0.5);
    await post(shuffled.slice(0, 60), 'accepted');
    await post(shuffled.slice(60, 110), 'accepted');
    await post(shuffled.slice(0, 60), 'duplicate');
    await post(shuffled.slice(110), 'accepted');
    await expectExact(key, id);

    // Deleted: a ticket's first opening and some reopenings, a customer's earliest purchases (not
    // its first, which the stored first-purchase fact would keep), a whole customer; one erased.
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND id IN (
      SELECT DISTINCT ON (properties ->> 'ticket_id') id FROM events
      WHERE workspace_id = ${id} AND type = 'support_ticket.opened' AND properties ? 'ticket_id'
      ORDER BY properties ->> 'ticket_id', occurred_at)`.execute(t.deps.db);
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND type = 'support_ticket.reopened'
              AND properties ->> 'ticket_id' IN ('A', 'B')`.execute(t.deps.db);
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND id IN (
      SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY occurred_at, id) AS n
                      FROM events WHERE workspace_id = ${id} AND type = 'purchase') x WHERE n = 2)`.execute(
      t.deps.db,
    );
    await sql`DELETE FROM customers WHERE workspace_id = ${id} AND external_id = 'f3'`.execute(t.deps.db);
    expect((await call(t.app, 'DELETE', '/v1/customers/f4', key)).statusCode).toBe(204);
    await expectExact(key, id);
  });
});
