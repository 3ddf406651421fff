import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { postEvents } from './helpers/metrics.js';

// Cross-sell, upsell and churn read the purchase_categories rollup; NPS, CES and CSAT read
// survey_answers; the ticket KPIs read ticket_events. All three are kept by triggers on events, kept by triggers on events: these
// cases change it after the fact (a late first purchase, a duplicate, a segment change, an
// erasure) and the KPI must follow exactly, with no refresh.

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let key: string;

beforeAll(async () => {
  t = await startTestApp({ clock });
  key = (await createWorkspace(t.app)).key;
});
afterAll(async () => {
  await t.close();
});

const NOV = 'from=2026-11-01T00:00:00Z&to=2026-11-15T00:00:00Z';
const crossSell = async (query = NOV) => {
  const response = await call(t.app, 'GET', `/v1/metrics/cross-sell-rate?${query}`, key);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};
const purchase = (customer: string, at: string, categories: string[], segment?: string) => ({
  type: 'purchase',
  at,
  customer,
  ...(segment ? { segment } : {}),
  properties: { amount: 10, products: categories.map((category) => ({ sku: category, category })) },
});

describe('KPIs read from the purchase_categories rollup', () => {
  it('follows a late first purchase, ignores a duplicate, a segment change and an erasure', async () => {
    // x: first purchase bags (Nov 5), then shoes (Nov 8): shoes is new → a cross-buyer.
    await postEvents(t, key, [
      purchase('x', '2026-11-05T12:00:00Z', ['bags'], 'smb'),
      purchase('x', '2026-11-08T12:00:00Z', ['shoes']),
    ]);
    expect((await crossSell()).details).toEqual({ buyers: 1, cross_buyers: 1 });

    // A late purchase in October with both categories becomes x's first: nothing new any more.
    await postEvents(t, key, [purchase('x', '2026-10-01T12:00:00Z', ['bags', 'shoes'])]);
    const late = await crossSell();
    expect(late.value).toBe(0);
    expect(late.details).toEqual({ buyers: 1, cross_buyers: 0 });

    // y: toys then games in the window → a cross-buyer; 1 of 2 buyers.
    await postEvents(t, key, [
      purchase('y', '2026-11-02T12:00:00Z', ['toys'], 'smb'),
      purchase('y', '2026-11-03T12:00:00Z', ['games']),
    ]);
    expect((await crossSell()).value).toBe(50);

    // The same event sent again is a duplicate: no second row, same answer.
    const body = {
      events: [
        {
          id: 'dup-1',
          type: 'purchase',
          occurred_at: '2026-11-09T12:00:00Z',
          customer: { id: 'z' },
          properties: { amount: 10, products: [{ sku: 'a', category: 'pens' }] },
        },
      ],
    };
    for (const expected of ['accepted', 'duplicate']) {
      const response = await call(t.app, 'POST', '/v1/events/batch', key, body);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().results[0].status).toBe(expected);
    }
    // z bought once (its first purchase, which does not count): 1 of 3 buyers.
    expect((await crossSell()).details).toEqual({ buyers: 3, cross_buyers: 1 });

    // Segment: the customer's current one. y moves from smb to mid.
    expect((await crossSell(`${NOV}&segment=smb`)).details).toEqual({ buyers: 2, cross_buyers: 1 });
    await postEvents(t, key, [
      { type: 'activity', at: '2026-11-10T12:00:00Z', customer: 'y', segment: 'mid' },
    ]);
    expect((await crossSell(`${NOV}&segment=smb`)).details).toEqual({ buyers: 1, cross_buyers: 0 });
    expect((await crossSell(`${NOV}&segment=mid`)).details).toEqual({ buyers: 1, cross_buyers: 1 });

    // Erasure scrubs y's events but keeps products: the KPI does not move.
    expect((await call(t.app, 'DELETE', '/v1/customers/y', key)).statusCode).toBe(204);
    expect((await crossSell()).details).toEqual({ buyers: 3, cross_buyers: 1 });
    expect((await crossSell(`${NOV}&segment=mid`)).details).toEqual({ buyers: 1, cross_buyers: 1 });
  });

  it('churn follows a late comeback purchase and a renewal, and ignores a duplicate', async () => {
    const own = (await createWorkspace(t.app)).key;
    const churn = async () => {
      const response = await call(t.app, 'GET', `/v1/metrics/churn?${NOV}`, own);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    // a: bought, then cancelled before the window → churned at its start. b: active, cancels in it.
    await postEvents(t, own, [
      purchase('a', '2026-09-01T12:00:00Z', ['bags']),
      { type: 'cancellation', at: '2026-10-01T12:00:00Z', customer: 'a' },
      purchase('b', '2026-09-01T12:00:00Z', ['bags']),
      { type: 'cancellation', at: '2026-11-05T12:00:00Z', customer: 'b' },
    ]);
    expect((await churn()).details).toEqual({ active: 1, cancelled: 1 });

    // A late purchase of a after its cancellation (still before the window): a comes back.
    const late = {
      events: [
        {
          id: 'late-comeback',
          type: 'purchase',
          occurred_at: '2026-10-10T12:00:00Z',
          customer: { id: 'a' },
          properties: { amount: 10, products: [{ sku: 'x', category: 'bags' }] },
        },
      ],
    };
    for (const expected of ['accepted', 'duplicate']) {
      const response = await call(t.app, 'POST', '/v1/events/batch', own, late);
      expect(response.json().results[0].status).toBe(expected);
      const body = await churn();
      expect(body.details).toEqual({ active: 2, cancelled: 1 });
      expect(body.value).toBe(50);
    }

    // c: cancelled, then renewed before the window → active; a renewal at the cancellation's
    // instant would not have counted.
    await postEvents(t, own, [
      purchase('c', '2026-09-01T12:00:00Z', ['bags']),
      { type: 'cancellation', at: '2026-10-01T12:00:00Z', customer: 'c' },
      { type: 'renewal', at: '2026-10-15T12:00:00Z', customer: 'c' },
      purchase('d', '2026-09-01T12:00:00Z', ['bags']),
      { type: 'cancellation', at: '2026-10-01T12:00:00Z', customer: 'd' },
      { type: 'renewal', at: '2026-10-01T12:00:00Z', customer: 'd' },
    ]);
    expect((await churn()).details).toEqual({ active: 3, cancelled: 1 });
  });

  it('survey and ticket KPIs follow late and out-of-order events, a duplicate, a deleted event and erasure', async () => {
    const { id, key: own } = await createWorkspace(t.app);
    const value = async (name: string) => {
      const response = await call(t.app, 'GET', `/v1/metrics/${name}?${NOV}`, own);
      expect(response.statusCode, response.body).toBe(200);
      return response.json().value;
    };
    const post = async (event: Record<string, unknown>, status = 'accepted') => {
      const response = await call(t.app, 'POST', '/v1/events/batch', own, { events: [event] });
      expect(response.json().results[0].status).toBe(status);
    };
    const ticket = (kind: string, at: string) => ({
      id: `t1-${kind}`,
      type: `support_ticket.${kind}`,
      occurred_at: at,
      customer: { id: 'k' },
      properties: { ticket_id: 'T1' },
    });
    // The resolution first: no opening yet, so no resolved ticket to time.
    await post(ticket('resolved', '2026-11-05T12:00:00Z'));
    expect(await value('time-to-resolution')).toBeNull();
    // The opening arrives late: 24 h to resolve, never reopened.
    await post(ticket('opened', '2026-11-04T12:00:00Z'));
    await post(ticket('first_response', '2026-11-04T18:00:00Z'));
    expect(await value('time-to-resolution')).toBe(24);
    expect(await value('first-response-time')).toBe(6);
    expect(await value('first-contact-resolution')).toBe(100);
    // Reopened (sent twice: the second is a duplicate), then that event deleted.
    await post(ticket('reopened', '2026-11-06T12:00:00Z'));
    await post(ticket('reopened', '2026-11-06T12:00:00Z'), 'duplicate');
    expect(await value('first-contact-resolution')).toBe(0);
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND type = 'support_ticket.reopened'`.execute(
      t.deps.db,
    );
    expect(await value('first-contact-resolution')).toBe(100);

    // NPS: the latest answer counts; a late, older answer does not replace it.
    const nps = (n: string, at: string, score: number) => ({
      id: `nps-${n}`,
      type: 'survey_response',
      occurred_at: at,
      customer: { id: 'p' },
      properties: { survey: 'nps', score, comment: 'personal words' },
    });
    await post(nps('late', '2026-11-05T12:00:00Z', 10));
    await post(nps('early', '2026-11-03T12:00:00Z', 0));
    expect(await value('nps')).toBe(100);
    // The latest deleted: the earlier detractor is now the latest.
    await sql`DELETE FROM events WHERE workspace_id = ${id} AND external_id = 'nps-late'`.execute(t.deps.db);
    expect(await value('nps')).toBe(-100);

    // Erasure scrubs comments but keeps survey, score and ticket id: nothing moves.
    expect((await call(t.app, 'DELETE', '/v1/customers/p', own)).statusCode).toBe(204);
    expect((await call(t.app, 'DELETE', '/v1/customers/k', own)).statusCode).toBe(204);
    expect(await value('nps')).toBe(-100);
    expect(await value('time-to-resolution')).toBe(24);
    expect(await value('first-response-time')).toBe(6);
    expect(await value('first-contact-resolution')).toBe(100);
  });
});
