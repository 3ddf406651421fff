import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const clock = new TestClock('2026-11-20T12:00:00Z');
let t: TestApp;
let key: string;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;

const post = (body: unknown, as = key) => call(t.app, 'POST', '/v1/events', as, body);
const batch = (events: unknown[], as = key) => call(t.app, 'POST', '/v1/events/batch', as, { events });
const customer = async (id: string, as = key) => call(t.app, 'GET', `/v1/customers/${id}`, as);

function purchase(id: string, customerId: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    type: 'purchase',
    occurred_at: '2026-11-19T10:00:00Z',
    customer: { id: customerId, name: 'Ana Souza', email: 'ana@example.com' },
    properties: { amount: 3500, currency: 'BRL', order_id: '981' },
    ...extra,
  };
}

beforeAll(async () => {
  t = await startTestApp({ clock });
  key = (await createWorkspace(t.app)).key;
});
afterAll(async () => t.close());

describe('POST /v1/events', () => {
  it("accepts an event with 202, upserts its customer and plans the seed playbooks' touchpoints", async () => {
    const response = await post({
      id: 'order-981-delivered',
      type: 'delivery',
      occurred_at: '2026-11-20T11:00:00Z',
      customer: {
        id: 'c-42',
        name: 'Ana Souza',
        email: 'ana@example.com',
        phone: '+5511999990000',
        locale: 'pt-BR',
        timezone: 'America/Sao_Paulo',
        segment: 'smb',
        attributes: {},
      },
      properties: { order_id: '981', amount: 3500.0, currency: 'BRL' },
    });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({
      id: 'order-981-delivered',
      status: 'accepted',
      customer_id: 'c-42',
      exited: [],
    });
    // The delivery starts onboarding (an email check-in for an smb account) and, as activity,
    // the 15-day idle timer of re-engagement.
    const planned = body.touchpoints.map((tp: { playbook: string; step: string; status: string }) =>
      [tp.playbook, tp.step, tp.status].join(':'),
    );
    expect(planned).toEqual([
      'onboarding:welcome:scheduled',
      'onboarding:checkin-email:scheduled',
      'onboarding:usage-tips:scheduled',
      'onboarding:nps:scheduled',
      'onboarding:upgrade-offer:scheduled',
      'reengagement:email:scheduled',
      'reengagement:support-call:scheduled',
    ]);
    expect(body.touchpoints[0].due_at).toBe('2026-11-23T13:00:00.000Z');
    const profile = (await customer('c-42')).json();
    expect(profile).toMatchObject({
      id: 'c-42',
      name: 'Ana Souza',
      email: 'ana@example.com',
      phone: '+5511999990000',
      locale: 'pt-BR',
      timezone: 'America/Sao_Paulo',
      segment: 'smb',
    });
  });

  it('defaults occurred_at to now, from the injected clock', async () => {
    const id = uid('c');
    await post({ id: uid('e'), type: 'activity', customer: { id } });
    const timeline = (await call(t.app, 'GET', `/v1/customers/${id}/timeline`, key)).json();
    expect(timeline.data.find((item: { kind: string }) => item.kind === 'event').occurred_at).toBe(
      clock.now().toISOString(),
    );
  });

  it('keeps property names as sent (snake_case inside jsonb)', async () => {
    const id = uid('c');
    await post(purchase(uid('e'), id));
    const timeline = (await call(t.app, 'GET', `/v1/customers/${id}/timeline`, key)).json();
    expect(timeline.data.find((item: { kind: string }) => item.kind === 'event').properties).toEqual({
      amount: 3500,
      currency: 'BRL',
      order_id: '981',
    });
  });

  it('upserts: given fields overwrite, missing ones stay, attributes merge', async () => {
    const id = uid('c');
    await post({
      id: uid('e'),
      type: 'activity',
      customer: { id, name: 'Ana', email: 'ana@example.com', attributes: { plan: 'pro', seats: 3 } },
    });
    await post({
      id: uid('e'),
      type: 'activity',
      customer: { id, name: 'Ana Maria', attributes: { seats: 5 } },
    });
    const profile = (await customer(id)).json();
    expect(profile.name).toBe('Ana Maria');
    expect(profile.email).toBe('ana@example.com');
    expect(profile.attributes).toEqual({ plan: 'pro', seats: 5 });
  });
});

describe('idempotency', () => {
  it('the same id and body again → 200 duplicate, and nothing changes', async () => {
    const id = uid('c');
    const event = purchase(uid('e'), id);
    expect((await post(event)).statusCode).toBe(202);
    // A later event renames the customer; replaying the first must not rename it back.
    await post({ id: uid('e'), type: 'activity', customer: { id, name: 'Ana Maria' } });
    const again = await post(event);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({
      id: event.id,
      status: 'duplicate',
      customer_id: id,
      touchpoints: [],
      exited: [],
    });
    const profile = (await customer(id)).json();
    expect(profile.orders_count).toBe(1);
    expect(profile.revenue_total).toBe(3500);
    expect(profile.name).toBe('Ana Maria');
  });

  it('key order and the offset of occurred_at do not make a body different', async () => {
    const id = uid('c');
    const eventId = uid('e');
    await post(purchase(eventId, id));
    const reordered = {
      properties: { order_id: '981', currency: 'BRL', amount: 3500 },
      customer: { email: 'ana@example.com', name: 'Ana Souza', id },
      occurred_at: '2026-11-19T07:00:00.000-03:00',
      type: 'purchase',
      id: eventId,
    };
    expect((await post(reordered)).json().status).toBe('duplicate');
  });

  it('a retry of a body without occurred_at is a duplicate, though now has moved', async () => {
    const event = { id: uid('e'), type: 'activity', customer: { id: uid('c') } };
    expect((await post(event)).statusCode).toBe(202);
    clock.advance(60_000);
    expect((await post(event)).statusCode).toBe(200);
  });

  it('the same id with a different body → 409 event_conflict, and nothing changes', async () => {
    const id = uid('c');
    const event = purchase(uid('e'), id);
    await post(event);
    const response = await post({ ...event, properties: { amount: 1 } });
    expect(response.statusCode).toBe(409);
    expect(problemOf(response).code).toBe('event_conflict');
    expect((await customer(id)).json().revenue_total).toBe(3500);
  });

  it('the same id in another workspace is a different event', async () => {
    const other = await createWorkspace(t.app, { name: 'Other shop' });
    const event = purchase(uid('e'), uid('c'));
    expect((await post(event)).statusCode).toBe(202);
    expect((await post(event, other.key)).statusCode).toBe(202);
    expect((await customer(event.customer.id, other.key)).json().orders_count).toBe(1);
  });

  it('twenty concurrent copies of one event: exactly one accepted, nineteen duplicates, no 5xx', async () => {
    const id = uid('c');
    const event = purchase(uid('e'), id);
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(event)));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(responses.filter((r) => r.statusCode === 200).every((r) => r.json().status === 'duplicate')).toBe(
      true,
    );
    expect((await customer(id)).json().orders_count).toBe(1);
  });

  it('twenty concurrent events of one new customer: one customer holding all twenty', async () => {
    const id = uid('c');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post({ id: uid('e'), type: 'purchase', customer: { id }, properties: { amount: i + 1 } }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(202));
    const profile = (await customer(id)).json();
    expect(profile.orders_count).toBe(20);
    expect(profile.revenue_total).toBe(210);
    const timeline = (await call(t.app, 'GET', `/v1/customers/${id}/timeline?limit=50`, key)).json();
    expect(timeline.data.filter((item: { kind: string }) => item.kind === 'event')).toHaveLength(20);
  });
});

describe('validation', () => {
  async function rejected(body: unknown, status = 400) {
    const response = await post(body);
    expect(response.statusCode, response.body).toBe(status);
    return problemOf(response);
  }

  it('requires the customer, with a path a person can follow', async () => {
    const problem = await rejected({ id: uid('e'), type: 'activity' });
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toEqual([{ path: '/body/customer', message: 'is required' }]);
  });

  it('names the allowed types for an unknown one, without schema noise', async () => {
    const problem = await rejected({ id: uid('e'), type: 'purchased', customer: { id: 'x' } });
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors?.[0]?.path).toBe('/body/type');
    expect(problem.errors?.[0]?.message).toContain('purchase, delivery');
    expect(problem.detail).not.toMatch(/anyOf|oneOf|schema/);
  });

  it('requires amount ≥ 0 on a purchase', async () => {
    const missing = await rejected({ id: uid('e'), type: 'purchase', customer: { id: 'x' }, properties: {} });
    expect(missing.errors).toEqual([{ path: '/body/properties/amount', message: 'is required' }]);
    const negative = await rejected({
      id: uid('e'),
      type: 'purchase',
      customer: { id: 'x' },
      properties: { amount: -1 },
    });
    expect(negative.errors?.[0]?.path).toBe('/body/properties/amount');
  });

  it('rejects unknown properties of a known type (typos), and accepts free ones on custom.<name>', async () => {
    const typo = await rejected({
      id: uid('e'),
      type: 'purchase',
      customer: { id: 'x' },
      properties: { amount: 1, ammount: 1 },
    });
    expect(typo.errors).toEqual([{ path: '/body/properties/ammount', message: 'is not a known field' }]);
    const custom = await post({
      id: uid('e'),
      type: 'custom.coupon_used',
      customer: { id: uid('c') },
      properties: { coupon: 'VOLTA10', anything: { nested: [1, 2] } },
    });
    expect(custom.statusCode).toBe(202);
  });

  it.each([
    ['nps', 11, 'at most 10'],
    ['nps', -1, 'at least 0'],
    ['ces', 0, 'at least 1'],
    ['ces', 8, 'at most 7'],
    ['csat', 6, 'at most 5'],
    ['csat', 0, 'at least 1'],
  ])('keeps a %s score of %i in range (%s)', async (survey, score, message) => {
    const problem = await rejected({
      id: uid('e'),
      type: 'survey_response',
      customer: { id: 'x' },
      properties: { survey, score },
    });
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors?.[0]?.path).toBe('/body/properties/score');
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('accepts scores at the ends of each scale', async () => {
    for (const [survey, score] of [
      ['nps', 0],
      ['nps', 10],
      ['ces', 1],
      ['ces', 7],
      ['csat', 1],
      ['csat', 5],
    ] as const) {
      const response = await post({
        id: uid('e'),
        type: 'survey_response',
        customer: { id: uid('c') },
        properties: { survey, score },
      });
      expect(response.statusCode, `${survey} ${score}`).toBe(202);
    }
  });

  it('occurred_at more than 5 minutes ahead → 422 on /body/occurred_at; 4 minutes ahead is fine', async () => {
    const ahead = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
    const id = uid('c');
    const problem = await rejected(
      { id: uid('e'), type: 'activity', occurred_at: ahead(6 * 60_000), customer: { id } },
      422,
    );
    expect(problem.errors?.[0]?.path).toBe('/body/occurred_at');
    expect((await customer(id)).statusCode).toBe(404);
    const ok = await post({
      id: uid('e'),
      type: 'activity',
      occurred_at: ahead(4 * 60_000),
      customer: { id },
    });
    expect(ok.statusCode).toBe(202);
  });

  it('rejects an unknown time zone or currency with 422, and stores nothing', async () => {
    const id = uid('c');
    const zone = await rejected(
      { id: uid('e'), type: 'activity', customer: { id, timezone: 'Mars/Base' } },
      422,
    );
    expect(zone.errors?.[0]?.path).toBe('/body/customer/timezone');
    const currency = await rejected(
      { id: uid('e'), type: 'purchase', customer: { id }, properties: { amount: 1, currency: 'XYZ' } },
      422,
    );
    expect(currency.errors?.[0]?.path).toBe('/body/properties/currency');
    expect((await customer(id)).statusCode).toBe(404);
  });

  it('malformed JSON is a 400 problem, not a 500', async () => {
    const response = await call(t.app, 'POST', '/v1/events', key, '{"id": ', {
      'content-type': 'application/json',
    });
    expect(response.statusCode).toBe(400);
    expect(problemOf(response).code).toBe('malformed_json');
  });

  it('needs the events:write scope', async () => {
    const reader = await createKey(t.app, key, ['read']);
    const writer = await createKey(t.app, key, ['events:write']);
    const event = { id: uid('e'), type: 'activity', customer: { id: uid('c') } };
    expect((await post(event, reader.key)).statusCode).toBe(403);
    expect((await call(t.app, 'POST', '/v1/events', undefined, event)).statusCode).toBe(401);
    expect((await post(event, writer.key)).statusCode).toBe(202);
  });
});

describe('POST /v1/events/batch', () => {
  it('reports per item: one bad item does not reject the others', async () => {
    const id = uid('c');
    const first = purchase(uid('e'), id);
    await post(first);
    const fresh = {
      id: uid('e'),
      type: 'survey_response',
      customer: { id },
      properties: { survey: 'nps', score: 9 },
    };
    const response = await batch([
      fresh,
      { id: uid('e'), type: 'survey_response', customer: { id }, properties: { survey: 'nps', score: 11 } },
      first,
      { ...first, properties: { amount: 2 } },
      { type: 'activity', customer: { id } },
      { id: uid('e'), type: 'activity', customer: { id }, occurred_at: '2026-12-31T00:00:00Z' },
    ]);
    expect(response.statusCode).toBe(200);
    const results = response.json().results;
    expect(results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'duplicate',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(results[0]).toEqual({ id: fresh.id, status: 'accepted', customer_id: id });
    expect(results[1].code).toBe('validation_failed');
    expect(results[1].errors).toEqual([
      { path: '/body/events/1/properties/score', message: 'must be at most 10 for an nps survey (0–10)' },
    ]);
    expect(results[3].code).toBe('event_conflict');
    expect(results[4]).toMatchObject({ id: null, code: 'validation_failed' });
    expect(results[4].errors).toEqual([{ path: '/body/events/4/id', message: 'is required' }]);
    expect(results[5].code).toBe('unprocessable');
    expect(results[5].errors[0].path).toBe('/body/events/5/occurred_at');
    expect((await customer(id)).json().nps).toBe(9);
  });

  it('within one batch, the first of an id wins: a same-body copy is a duplicate, another body rejected', async () => {
    const event = { id: uid('e'), type: 'purchase', customer: { id: uid('c') }, properties: { amount: 10 } };
    const results = (await batch([event, event, { ...event, properties: { amount: 11 } }])).json().results;
    expect(results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate', 'rejected']);
    expect((await customer(event.customer.id)).json().revenue_total).toBe(10);
  });

  it('takes 1000 events at once and folds them into their customers', async () => {
    const ids = Array.from({ length: 10 }, () => uid('c'));
    const events = Array.from({ length: 1000 }, (_, i) => ({
      id: uid('bulk'),
      type: 'purchase',
      occurred_at: new Date(Date.parse('2026-11-01T00:00:00Z') + i * 60_000).toISOString(),
      customer: { id: ids[i % 10], segment: 'bulk', attributes: { [`k${i % 3}`]: i } },
      properties: { amount: 1.5 },
    }));
    const response = await batch(events);
    expect(response.statusCode).toBe(200);
    expect(response.json().results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
    const profile = (await customer(ids[3]!)).json();
    expect(profile.orders_count).toBe(100);
    expect(profile.revenue_total).toBe(150);
    expect(profile.first_purchase_at).toBe('2026-11-01T00:03:00.000Z');
    expect(profile.last_purchase_at).toBe(
      new Date(Date.parse('2026-11-01T00:00:00Z') + 993 * 60_000).toISOString(),
    );
    // Attributes merged in batch order: the last event of customer 3 with each key wins.
    expect(profile.attributes).toEqual({ k0: 993, k1: 973, k2: 983 });
  });

  it('rejects the envelope itself: empty, over 1000, or not an array', async () => {
    const empty = await batch([]);
    expect(empty.statusCode).toBe(400);
    expect(problemOf(empty).errors?.[0]?.path).toBe('/body/events');
    const tooMany = await batch(Array.from({ length: 1001 }, () => ({})));
    expect(tooMany.statusCode).toBe(400);
    const notArray = await call(t.app, 'POST', '/v1/events/batch', key, { events: 'x', extra: 1 });
    expect(problemOf(notArray).errors).toEqual([
      { path: '/body/events', message: 'is required and must be an array of events' },
      { path: '/body/extra', message: 'is not a known field' },
    ]);
  });

  it('gives the same facts as posting the events one by one', async () => {
    const one = uid('c');
    const many = uid('c');
    const events = (id: string) => [
      {
        id: uid('x'),
        type: 'purchase',
        occurred_at: '2026-11-02T10:00:00Z',
        customer: { id },
        properties: { amount: 100 },
      },
      { id: uid('x'), type: 'first_use', occurred_at: '2026-11-03T10:00:00Z', customer: { id } },
      {
        id: uid('x'),
        type: 'survey_response',
        occurred_at: '2026-11-04T10:00:00Z',
        customer: { id },
        properties: { survey: 'nps', score: 8 },
      },
      {
        id: uid('x'),
        type: 'purchase',
        occurred_at: '2026-11-05T10:00:00Z',
        customer: { id },
        properties: { amount: 50 },
      },
    ];
    for (const event of events(one)) await post(event);
    await batch(events(many));
    const a = (await customer(one)).json();
    const b = (await customer(many)).json();
    for (const field of [
      'first_purchase_at',
      'last_purchase_at',
      'last_activity_at',
      'first_use_at',
      'orders_count',
      'revenue_total',
      'average_ticket',
      'nps',
      'lifecycle_stage',
      'health_score',
    ]) {
      expect(b[field], field).toEqual(a[field]);
    }
  });
});

describe('OpenAPI', () => {
  it('documents every event and customer schema with examples', async () => {
    const document = (await call(t.app, 'GET', '/openapi.json', undefined)).json();
    const schemas = document.components.schemas as Record<string, { examples?: unknown[] }>;
    for (const name of [
      'EventInput',
      'EventAccepted',
      'PlannedTouchpoint',
      'PurchaseProperties',
      'DeliveryProperties',
      'FirstUseProperties',
      'ActivityProperties',
      'UsageProperties',
      'InactivityProperties',
      'RenewalProperties',
      'CancellationProperties',
      'SurveyResponseProperties',
      'SupportTicketProperties',
      'CustomProperties',
      'CustomerProfile',
      'TimelineItem',
    ]) {
      expect(schemas[name]?.examples?.length, name).toBeGreaterThan(0);
    }
    const operations = Object.values(
      document.paths as Record<
        string,
        Record<string, { tags?: string[]; requestBody?: unknown; responses: object }>
      >,
    )
      .flatMap((methods) => Object.values(methods))
      .filter((op) => op.tags?.some((tag) => tag === 'events' || tag === 'customers'));
    expect(operations).toHaveLength(9);
    for (const op of operations) {
      if (op.requestBody) expect(JSON.stringify(op.requestBody)).toMatch(/"example|\$ref/);
      expect(JSON.stringify(op.responses)).toMatch(/"example|\$ref/);
    }
  });
});
