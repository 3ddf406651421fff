import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvents } from '../src/modules/outbox/outbox.js';
import { call, createKey, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

const NOW = '2026-11-20T12:00:00Z';
const clock = new TestClock(NOW);
let t: TestApp;
let key: string;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;
const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.parse(NOW) - days * DAY).toISOString();

const post = (body: unknown, as = key) => call(t.app, 'POST', '/v1/events', as, body);
const batch = (events: unknown[], as = key) => call(t.app, 'POST', '/v1/events/batch', as, { events });
const get = (url: string, as = key) => call(t.app, 'GET', url, as);

function event(customerId: string, type: string, days: number, properties?: Record<string, unknown>) {
  return { id: uid('e'), type, occurred_at: daysAgo(days), customer: { id: customerId }, properties };
}

async function profile(id: string, as = key) {
  const response = await get(`/v1/customers/${encodeURIComponent(id)}`, as);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

beforeAll(async () => {
  t = await startTestApp({ clock });
  key = (await createWorkspace(t.app)).key;
});
afterAll(async () => t.close());

describe('customer facts', () => {
  const history = (id: string) => [
    event(id, 'purchase', 40, { amount: 100 }),
    event(id, 'delivery', 38),
    event(id, 'first_use', 35),
    event(id, 'survey_response', 20, { survey: 'nps', score: 4 }),
    event(id, 'purchase', 10, { amount: 300.25 }),
    event(id, 'survey_response', 5, { survey: 'nps', score: 9 }),
    event(id, 'activity', 2),
    event(id, 'survey_response', 1, { survey: 'csat', score: 2 }),
  ];

  it('are the same whether events arrive in order, reversed, or late in a batch', async () => {
    const inOrder = uid('c');
    const reversed = uid('c');
    const late = uid('c');
    for (const e of history(inOrder)) expect((await post(e)).statusCode).toBe(202);
    for (const e of history(reversed).reverse()) expect((await post(e)).statusCode).toBe(202);
    const lateEvents = history(late);
    for (const e of lateEvents.slice(4)) await post(e);
    await batch(lateEvents.slice(0, 4).reverse());

    const expected = {
      first_purchase_at: daysAgo(40),
      last_purchase_at: daysAgo(10),
      last_activity_at: daysAgo(2),
      first_use_at: daysAgo(35),
      orders_count: 2,
      revenue_total: 400.25,
      average_ticket: 200.13,
      currency: 'BRL',
      nps: 9,
      lifecycle_stage: 'active',
    };
    for (const id of [inOrder, reversed, late]) expect(await profile(id)).toMatchObject(expected);
  });

  it('latest NPS is the answer that occurred last, not the one that arrived last; ties go to the greater id', async () => {
    const id = uid('c');
    await post({ ...event(id, 'survey_response', 1, { survey: 'nps', score: 10 }), id: `${id}-b` });
    await post(event(id, 'survey_response', 3, { survey: 'nps', score: 2 }));
    expect((await profile(id)).nps).toBe(10);
    // Same occurred_at as the 10: the greater event id wins, whatever the arrival order.
    await post({ ...event(id, 'survey_response', 1, { survey: 'nps', score: 7 }), id: `${id}-a` });
    expect((await profile(id)).nps).toBe(10);
    await post({ ...event(id, 'survey_response', 1, { survey: 'nps', score: 8 }), id: `${id}-c` });
    expect((await profile(id)).nps).toBe(8);
  });

  it('sums revenue in the workspace currency only, and counts every purchase', async () => {
    const id = uid('c');
    await post(event(id, 'purchase', 3, { amount: 100, currency: 'BRL' }));
    await post(event(id, 'purchase', 2, { amount: 50, currency: 'USD' }));
    await post(event(id, 'purchase', 1, { amount: 200 }));
    expect(await profile(id)).toMatchObject({ orders_count: 3, revenue_total: 300, average_ticket: 150 });
  });

  it('counts open tickets from their latest event, and they lower the health score', async () => {
    const id = uid('c');
    await post(event(id, 'activity', 0));
    const healthy = (await profile(id)).health_score;
    await post(event(id, 'support_ticket.opened', 2, { ticket_id: 'T1', category: 'complaint' }));
    await post(event(id, 'support_ticket.opened', 2, { ticket_id: 'T2' }));
    // Resolution of T1 arrives, then a late "first_response" that occurred before it.
    await post(event(id, 'support_ticket.resolved', 1, { ticket_id: 'T1' }));
    await post(event(id, 'support_ticket.first_response', 1.5, { ticket_id: 'T1' }));
    const p = await profile(id);
    expect(p.open_tickets).toBe(1);
    expect(p.health_score).toBe(healthy - 10);
  });

  it('health score: recency + NPS + support, as documented', async () => {
    const fresh = uid('c');
    await post(event(fresh, 'activity', 1));
    expect((await profile(fresh)).health_score).toBe(50 + 15 + 20);
    const promoter = uid('c');
    await post(event(promoter, 'activity', 1));
    await post(event(promoter, 'survey_response', 1, { survey: 'nps', score: 10 }));
    expect((await profile(promoter)).health_score).toBe(100);
    const idle = uid('c');
    await post(event(idle, 'activity', 60));
    expect((await profile(idle)).health_score).toBe(0 + 15 + 20);
  });
});

describe('lifecycle stage', () => {
  const cases: [string, [string, number, Record<string, unknown>?][]][] = [
    ['onboarding', [['purchase', 3, { amount: 1 }]]],
    [
      'adoption',
      [
        ['purchase', 20, { amount: 1 }],
        ['first_use', 10],
      ],
    ],
    [
      'active',
      [
        ['purchase', 60, { amount: 1 }],
        ['first_use', 50],
        ['activity', 3],
      ],
    ],
    [
      'at_risk',
      [
        ['purchase', 60, { amount: 1 }],
        ['first_use', 50],
        ['activity', 31],
      ],
    ],
    [
      'at_risk',
      [
        ['purchase', 5, { amount: 1 }],
        ['survey_response', 1, { survey: 'nps', score: 6 }],
      ],
    ],
    [
      'at_risk',
      [
        ['activity', 5],
        ['inactivity', 1, { days: 15 }],
      ],
    ],
    [
      'churned',
      [
        ['purchase', 20, { amount: 1 }],
        ['cancellation', 2, { reason: 'price' }],
      ],
    ],
    [
      'onboarding',
      [
        ['cancellation', 10],
        ['purchase', 2, { amount: 1 }],
      ],
    ],
  ];

  it.each(cases)('is %s for %j', async (stage, events) => {
    const id = uid('c');
    // Posted newest first: the stage must not depend on arrival order.
    for (const [type, days, properties] of [...events].reverse()) {
      expect((await post(event(id, type, days, properties))).statusCode).toBe(202);
    }
    expect((await profile(id)).lifecycle_stage).toBe(stage);
  });

  it('is computed at read time: it moves with the clock without new events', async () => {
    const id = uid('c');
    await post(event(id, 'purchase', 1, { amount: 1 }));
    expect((await profile(id)).lifecycle_stage).toBe('onboarding');
    clock.advance(31 * DAY);
    try {
      expect((await profile(id)).lifecycle_stage).toBe('at_risk');
      const listed = (await get('/v1/customers?stage=at_risk&limit=500')).json();
      expect(listed.data.map((c: { id: string }) => c.id)).toContain(id);
    } finally {
      clock.set(NOW);
    }
  });

  it('?stage= selects exactly the customers whose profile shows that stage', async () => {
    const all = (await get('/v1/customers?limit=500')).json().data as {
      id: string;
      lifecycle_stage: string;
    }[];
    expect(new Set(all.map((c) => c.lifecycle_stage)).size).toBe(5);
    for (const stage of ['onboarding', 'adoption', 'active', 'at_risk', 'churned']) {
      const listed = (await get(`/v1/customers?stage=${stage}&limit=500`)).json().data as { id: string }[];
      const expected = all.filter((c) => c.lifecycle_stage === stage).map((c) => c.id);
      expect(listed.map((c) => c.id).sort(), stage).toEqual(expected.sort());
    }
  });
});

describe('GET /v1/customers', () => {
  it('filters by segment and by email (case-insensitive), and pages with a cursor', async () => {
    const segment = uid('seg');
    const ids = Array.from({ length: 5 }, () => uid('c'));
    for (const [i, id] of ids.entries()) {
      clock.set(new Date(Date.parse(NOW) + i)); // newest first is by creation, to the millisecond
      await post({
        id: uid('e'),
        type: 'activity',
        customer: { id, segment, email: `p${i}-${segment}@example.com` },
      });
    }
    clock.set(NOW);
    const first = (await get(`/v1/customers?segment=${segment}&limit=2`)).json();
    expect(first.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    const second = (await get(`/v1/customers?segment=${segment}&limit=2&cursor=${first.next_cursor}`)).json();
    expect(second.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const third = (await get(`/v1/customers?segment=${segment}&limit=2&cursor=${second.next_cursor}`)).json();
    expect(third.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(third.next_cursor).toBeNull();

    const byEmail = (await get(`/v1/customers?email=P2-${segment.toUpperCase()}@EXAMPLE.COM`)).json();
    expect(byEmail.data.map((c: { id: string }) => c.id)).toEqual([ids[2]]);
  });

  it('rejects a forged cursor, an unknown stage and unknown parameters with 400', async () => {
    expect(problemOf(await get('/v1/customers?cursor=bm9wZQ')).code).toBe('invalid_cursor');
    expect((await get('/v1/customers?stage=happy')).statusCode).toBe(400);
    expect((await get('/v1/customers?colour=red')).statusCode).toBe(400);
  });

  it('needs a key with the read scope', async () => {
    const writer = await createKey(t.app, key, ['events:write']);
    expect((await get('/v1/customers', writer.key)).statusCode).toBe(403);
    expect((await call(t.app, 'GET', '/v1/customers', undefined)).statusCode).toBe(401);
  });
});

describe('timeline, touchpoints, consent, export', () => {
  it('timeline: events and touchpoints newest first, cursor-paginated without overlap', async () => {
    const id = uid('c');
    const events = [event(id, 'activity', 3), event(id, 'activity', 1), event(id, 'activity', 2)];
    for (const e of events) await post(e);
    const items: { kind: string; id: string; occurred_at?: string; due_at?: string }[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/customers/${id}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const body: { data: typeof items; next_cursor: string | null } = (await get(url)).json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      items.push(...body.data);
      cursor = body.next_cursor;
    } while (cursor);
    const eventItems = items.filter((item) => item.kind === 'event');
    expect(eventItems.map((item) => item.id)).toEqual([events[1]!.id, events[2]!.id, events[0]!.id]);
    expect(eventItems[0]).toMatchObject({ kind: 'event', type: 'activity', occurred_at: daysAgo(1) });
    // The idle timer of re-engagement is planned ahead, so it leads the timeline.
    expect(items[0]?.kind).toBe('touchpoint');
    const at = items.map((item) => Date.parse(item.due_at ?? item.occurred_at ?? ''));
    expect(at).toEqual([...at].sort((a, b) => b - a));
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
  });

  it("touchpoints: the customer's, as /v1/touchpoints lists them; 404 for an unknown customer", async () => {
    const id = uid('c');
    await post(event(id, 'purchase', 1, { amount: 1 }));
    const own = (await get(`/v1/customers/${id}/touchpoints`)).json();
    const all = (await get(`/v1/touchpoints?customer_id=${id}`)).json();
    expect(own).toEqual(all);
    for (const touchpoint of own.data) expect(touchpoint.customer_id).toBe(id);
    expect((await get('/v1/customers/nobody/touchpoints')).statusCode).toBe(404);
  });

  it('consent: defaults per channel, and PUT records a choice', async () => {
    const id = uid('c');
    await post(event(id, 'purchase', 1, { amount: 1 }));
    expect((await profile(id)).consent).toEqual({
      email: { status: 'opted_in', source: 'default', updated_at: null },
      phone: { status: 'opted_in', source: 'default', updated_at: null },
      whatsapp: { status: 'opted_out', source: 'default', updated_at: null },
      sms: { status: 'opted_out', source: 'default', updated_at: null },
    });
    const put = await call(t.app, 'PUT', `/v1/customers/${id}/consent/email`, key, { status: 'opted_out' });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({
      channel: 'email',
      status: 'opted_out',
      source: 'api',
      updated_at: NOW.replace('Z', '.000Z'),
    });
    await call(t.app, 'PUT', `/v1/customers/${id}/consent/whatsapp`, key, { status: 'opted_in' });
    const consent = (await profile(id)).consent;
    expect(consent.email.status).toBe('opted_out');
    expect(consent.whatsapp).toMatchObject({ status: 'opted_in', source: 'api' });
    expect(consent.phone.source).toBe('default');
  });

  it('consent: unknown channel or status → 400; unknown customer → 404', async () => {
    const id = uid('c');
    await post(event(id, 'activity', 1));
    const channel = await call(t.app, 'PUT', `/v1/customers/${id}/consent/pigeon`, key, {
      status: 'opted_in',
    });
    expect(problemOf(channel).errors?.[0]?.path).toBe('/params/channel');
    const status = await call(t.app, 'PUT', `/v1/customers/${id}/consent/email`, key, { status: 'maybe' });
    expect(status.statusCode).toBe(400);
    const nobody = await call(t.app, 'PUT', '/v1/customers/nobody/consent/email', key, {
      status: 'opted_in',
    });
    expect(nobody.statusCode).toBe(404);
  });

  it('export: the profile, consent and every event with the customer data it carried', async () => {
    const id = uid('c');
    await post({
      ...event(id, 'purchase', 2, { amount: 10 }),
      customer: { id, name: 'Ana', email: 'a@x.com' },
    });
    await post(event(id, 'survey_response', 1, { survey: 'nps', score: 9, comment: 'ótimo' }));
    const response = await get(`/v1/customers/${id}/export`);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.customer).toMatchObject({ id, name: 'Ana', email: 'a@x.com', nps: 9 });
    expect(body.customer.consent.email.status).toBe('opted_in');
    expect(body.events).toHaveLength(2);
    expect(body.events[0]).toMatchObject({
      type: 'purchase',
      customer: { id, name: 'Ana', email: 'a@x.com' },
    });
    expect(body.events[1].properties.comment).toBe('ótimo');
    expect(body.touchpoints).toEqual((await get(`/v1/touchpoints?customer_id=${id}`)).json().data);
  });
});

describe('another workspace', () => {
  it("sees none of this workspace's customers: every customer route answers 404", async () => {
    const id = uid('c');
    await post(event(id, 'purchase', 1, { amount: 1 }));
    const other = await createWorkspace(t.app, { name: 'Other' });
    for (const path of ['', '/timeline', '/touchpoints', '/export']) {
      expect((await get(`/v1/customers/${id}${path}`, other.key)).statusCode, path).toBe(404);
    }
    const consent = await call(t.app, 'PUT', `/v1/customers/${id}/consent/email`, other.key, {
      status: 'opted_out',
    });
    expect(consent.statusCode).toBe(404);
    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, other.key)).statusCode).toBe(404);
    expect((await get('/v1/customers', other.key)).json().data).toEqual([]);
    // Untouched in its own workspace.
    expect((await profile(id)).consent.email.source).toBe('default');
  });
});

describe('DELETE /v1/customers/{id} (erasure)', () => {
  it('erases personal data, keeps anonymous aggregates, records it, and answers 404 afterwards', async () => {
    const id = uid('c');
    const segment = uid('seg');
    await post({
      ...event(id, 'purchase', 5, { amount: 120, order_id: 'o1' }),
      customer: {
        id,
        name: 'Ana',
        email: 'ana@x.com',
        phone: '+5511999990000',
        segment,
        attributes: { cpf: '1' },
      },
    });
    await post(event(id, 'survey_response', 2, { survey: 'nps', score: 3, comment: 'Ana here, call me' }));
    await post(event(id, 'custom.note', 1, { text: 'lives at Rua X' }));
    const internal = await t.deps.db
      .selectFrom('customers')
      .select('id')
      .where('externalId', '=', id)
      .executeTakeFirstOrThrow();

    const reader = await createKey(t.app, key, ['read']);
    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, reader.key)).statusCode).toBe(403);

    const erased = await call(t.app, 'DELETE', `/v1/customers/${id}`, key);
    expect(erased.statusCode).toBe(204);
    expect(erased.body).toBe('');

    for (const path of ['', '/timeline', '/export']) {
      expect((await get(`/v1/customers/${id}${path}`)).statusCode, path).toBe(404);
    }
    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, key)).statusCode).toBe(404);
    expect((await get(`/v1/customers?segment=${segment}`)).json().data).toEqual([]);

    const row = await t.deps.db
      .selectFrom('customers')
      .selectAll()
      .where('id', '=', internal.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: null, email: null, phone: null, attributes: {}, segment });
    expect(row.externalId).not.toContain(id);
    expect(row.erasedAt).not.toBeNull();
    expect(Number(row.revenueTotal)).toBe(120);
    const events = await t.deps.db
      .selectFrom('events')
      .select(['type', 'properties', 'customerSnapshot', 'amount'])
      .where('customerId', '=', internal.id)
      .orderBy('occurredAt')
      .execute();
    expect(events.map((e) => e.customerSnapshot)).toEqual([null, null, null]);
    expect(events.map((e) => e.properties)).toEqual([
      { amount: 120, order_id: 'o1' },
      { survey: 'nps', score: 3 },
      {},
    ]);
    expect(Number(events[0]!.amount)).toBe(120);
    const erasures = await t.deps.db
      .selectFrom('customerErasures')
      .selectAll()
      .where('customerId', '=', internal.id)
      .execute();
    expect(erasures).toHaveLength(1);
    expect(erasures[0]!.eventsScrubbed).toBe(3);
  });

  it('an erasure racing events of the same customer gives no 5xx, and leaves one live customer', async () => {
    for (let round = 0; round < 5; round++) {
      const id = uid('c');
      await post({ ...event(id, 'purchase', 5, { amount: 100 }), customer: { id, name: 'Ana' } });
      const responses = await Promise.all([
        ...Array.from({ length: 4 }, () => post(event(id, 'activity', 0))),
        call(t.app, 'DELETE', `/v1/customers/${id}`, key),
        ...Array.from({ length: 4 }, () => post(event(id, 'activity', 0))),
      ]);
      expect(responses.map((r) => r.statusCode).filter((s) => s >= 500)).toEqual([]);
      const live = await t.deps.db
        .selectFrom('customers')
        .select('id')
        .where('externalId', '=', id)
        .where('erasedAt', 'is', null)
        .execute();
      expect(live.length).toBeLessThanOrEqual(1);
    }
  });

  it('scrubs the person from its outgoing events and rendered touchpoints, and only theirs', async () => {
    const [id, other] = [uid('c'), uid('c')];
    const person = (who: string) => ({
      id: who,
      name: `Name ${who}`,
      email: `${who}@x.com`,
      phone: '+5511999990000',
      segment: 'smb',
    });
    for (const who of [id, other]) {
      await post({
        ...event(who, 'delivery', 1),
        customer: person(who),
      });
    }
    const { workspaceId } = await t.deps.db
      .selectFrom('customers')
      .select('workspaceId')
      .where('externalId', '=', id)
      .executeTakeFirstOrThrow();
    const idsOf = async (who: string) =>
      (
        await t.deps.db
          .selectFrom('customers')
          .select('id')
          .where('externalId', '=', who)
          .executeTakeFirstOrThrow()
      ).id;
    const outgoing = (who: string) => ({
      touchpoint: { id: who === id ? 'tp-a' : 'tp-b', status: 'completed' },
      customer: person(who),
      content: { subject: `Hello Name ${who}` },
      outcome: 'reached',
      notes: `Name ${who} asked for a discount`,
    });
    await emitEvents(t.deps.db, [
      { workspaceId, type: 'task.completed', at: new Date(NOW), data: outgoing(id) },
      { workspaceId, type: 'task.completed', at: new Date(NOW), data: outgoing(other) },
    ]);
    // Rendered content as the dispatcher stores it, on one touchpoint of each.
    for (const who of [id, other]) {
      const customerId = await idsOf(who);
      const first = await t.deps.db
        .selectFrom('touchpoints')
        .select('id')
        .where('customerId', '=', customerId)
        .orderBy('dueAt')
        .executeTakeFirstOrThrow();
      await t.deps.db
        .updateTable('touchpoints')
        .set({ content: JSON.stringify({ subject: `Hi Name ${who}` }), outcomeNotes: `Name ${who} was kind` })
        .where('id', '=', first.id)
        .execute();
    }
    const erasedId = await idsOf(id);

    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, key)).statusCode).toBe(204);

    const pseudonym = (
      await t.deps.db
        .selectFrom('customers')
        .select('externalId')
        .where('id', '=', erasedId)
        .executeTakeFirstOrThrow()
    ).externalId;
    const rows = await t.deps.db
      .selectFrom('outbox')
      .select(sql<string>`data::text`.as('text'))
      .where('workspaceId', '=', workspaceId)
      .execute();
    const texts = rows.map((r) => r.text);
    // Nothing of the person is left in any outgoing event: not the id, name, email, content or notes.
    expect(texts.filter((text) => text.includes(id) || text.includes(`Name ${id}`))).toEqual([]);
    const scrubbed = rows
      .map((r) => JSON.parse(r.text) as Record<string, unknown>)
      .filter((data) => (data.customer as { id: string }).id === pseudonym);
    expect(scrubbed.length).toBeGreaterThan(0);
    expect(scrubbed.find((data) => data.outcome === 'reached')).toEqual({
      touchpoint: { id: 'tp-a', status: 'completed' },
      customer: { id: pseudonym, name: null, email: null, phone: null, segment: 'smb' },
      outcome: 'reached',
    });
    // The other customer's event is as it was.
    expect(
      texts.map((text) => JSON.parse(text)).filter((data) => data.customer?.id === other),
    ).toContainEqual(outgoing(other));
    const contents = async (customerId: string) =>
      (
        await t.deps.db
          .selectFrom('touchpoints')
          .select('content')
          .where('customerId', '=', customerId)
          .where((eb) => eb.or([eb('content', 'is not', null), eb('outcomeNotes', 'is not', null)]))
          .execute()
      ).length;
    expect(await contents(erasedId)).toBe(0);
    expect(await contents(await idsOf(other))).toBe(1);
  });

  it('a new event with the erased id starts a new customer', async () => {
    const id = uid('c');
    await post({ ...event(id, 'purchase', 5, { amount: 100 }), customer: { id, name: 'Ana' } });
    expect((await call(t.app, 'DELETE', `/v1/customers/${id}`, key)).statusCode).toBe(204);
    expect((await post(event(id, 'activity', 0))).statusCode).toBe(202);
    const fresh = await profile(id);
    expect(fresh).toMatchObject({ name: null, orders_count: 0, revenue_total: 0 });
  });
});
