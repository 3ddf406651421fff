// The whole loop, through the public API with the production worker in-process: a delivery
// event plans the seed onboarding calendar (and a webhook step of the shop's own); moving the
// clock makes each touchpoint due; the welcome email reaches a real SMTP server with working
// tracking links, the webhook step reaches a real receiver signed, the call task is created,
// and its outcome recorded — every outgoing event arriving signed at the receiver.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { create, startSmtp, type TestSmtp, touchpointRow, waitForStatus } from './helpers/dispatch.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { type Received, type Receiver, startReceiver, waitFor } from './helpers/webhook-receiver.js';
import { createEndpoint } from './helpers/webhooks.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Friday 20 Nov 2026, 09:00 in São Paulo: the welcome falls on Monday 23, the call on Monday 30.
const START = '2026-11-20T12:00:00Z';
const PUBLIC_URL = 'https://posvenda.example.com';
const HELP = 'https://loja.example.com/ajuda';
// A loaded 2-core machine: generous waits, never tight timings.
const WAIT_MS = 30_000;

const clock = new TestClock(START);
let t: TestApp;
let worker: TestWorker;
let smtp: TestSmtp;
let rx: Receiver;
let shop: { id: string; key: string };
let endpoint: { id: string; secret: string };
let touchpoints: Record<string, TouchpointItem>;

beforeAll(async () => {
  smtp = await startSmtp();
  rx = await startReceiver();
  t = await startTestApp({
    clock,
    env: { SMTP_URL: smtp.url, PUBLIC_URL, WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  worker = startTestWorker(t.deps);
  shop = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  endpoint = await createEndpoint(t.app, shop.key, `${rx.url}/hooks`, [
    'touchpoint.due',
    'touchpoint.sent',
    'task.created',
    'task.completed',
  ]);
  // The seed welcome links to the shop's pages only when it has set them: a new version of each
  // tone (a larger account gets the formal one) with a tracked link, saved through the API.
  for (const key of ['welcome', 'welcome-formal']) {
    const current = (await call(t.app, 'GET', `/v1/templates/${key}`, shop.key)).json();
    const variants = (current.variants as { html: string }[]).map((variant) => ({
      ...variant,
      html: `${variant.html}<p><a href="{{ '${HELP}' | track }}">Central de ajuda</a></p>`,
    }));
    const { channel, locale, tone, name, family } = current;
    const saved = await call(t.app, 'PUT', `/v1/templates/${key}`, shop.key, {
      channel,
      locale,
      tone,
      name,
      ...(family ? { family } : {}),
      variants,
    });
    expect(saved.statusCode, saved.body).toBeLessThan(300);
  }
  // The shop's own step: push the delivery to its CRM an hour later.
  await create(t.app, shop.key, '/v1/templates', {
    key: 'crm-push',
    channel: 'webhook',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [{ key: 'a', weight: 1, payload: { order: '{{ event.properties.order_id }}' } }],
  });
  await create(t.app, shop.key, '/v1/playbooks', {
    key: 'crm-sync',
    name: 'CRM sync',
    trigger: { event: 'delivery' },
    reentry: 'always',
    steps: [{ key: 'crm', after: 'PT1H', channel: 'webhook', template: 'crm-push' }],
  });

  const delivered = await call(t.app, 'POST', '/v1/events', shop.key, {
    id: 'delivery-981',
    type: 'delivery',
    occurred_at: START,
    customer: {
      id: 'cust-1',
      name: 'Ana Souza',
      email: 'ana@example.com',
      phone: '+5511988887777',
      segment: 'enterprise',
      timezone: 'America/Sao_Paulo',
    },
    properties: { order_id: '981' },
  });
  expect(delivered.statusCode, delivered.body).toBe(202);
  const list = await call(t.app, 'GET', '/v1/touchpoints?customer_id=cust-1', shop.key);
  touchpoints = Object.fromEntries(
    (list.json().data as TouchpointItem[]).map((item) => [`${item.playbook}/${item.step}`, item]),
  );
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await t?.close();
  await rx?.close();
  await smtp?.close();
});

/** Moves the clock to the touchpoint's due time and runs the pump once. */
async function fallDue(item: TouchpointItem): Promise<void> {
  clock.set(item.due_at);
  await worker.runNow('dispatch-pump');
}

/** Relays the outbox until the receiver has a request of `type` about `touchpointId`. */
async function received(type: string, touchpointId: string): Promise<Received> {
  return waitFor(
    async () => {
      await worker.runNow('outbox-relay');
      return rx
        .at('/hooks')
        .find((r) => r.headers['webhook-id'] !== undefined && isAbout(r, type, touchpointId));
    },
    WAIT_MS,
    `${type} about ${touchpointId}`,
  );
}

function isAbout(request: Received, type: string, touchpointId: string): boolean {
  const body = JSON.parse(request.body) as { type: string; data: { touchpoint?: { id?: string } } };
  return body.type === type && body.data.touchpoint?.id === touchpointId;
}

/**
 * Verifies the Standard Webhooks signature. The clock is the test's (days after the real
 * now), so the library's timestamp check is given that time as "now".
 */
function verified(request: Received): { type: string; data: Record<string, unknown> } {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(Number(request.headers['webhook-timestamp']) * 1000);
    return new Webhook(endpoint.secret).verify(request.body, request.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };
  } finally {
    vi.useRealTimers();
  }
}

describe('the post-sale loop end to end', () => {
  it('plans the onboarding calendar and the shop step from one delivery event', () => {
    expect(Object.keys(touchpoints)).toEqual(
      expect.arrayContaining(['onboarding/welcome', 'onboarding/checkin-call', 'crm-sync/crm']),
    );
    // A larger account gets the call, not the check-in email.
    expect(touchpoints['onboarding/checkin-email']).toBeUndefined();
    expect(touchpoints['onboarding/welcome']).toMatchObject({ channel: 'email', status: 'scheduled' });
  });

  it('a webhook step is delivered signed (touchpoint.due) and ends sent (touchpoint.sent)', async () => {
    const crm = touchpoints['crm-sync/crm']!;
    expect(crm.due_at).toBe('2026-11-20T13:00:00.000Z');
    await fallDue(crm);
    const due = await received('touchpoint.due', crm.id);
    expect(due.headers['webhook-id']).toBe(crm.id);
    const dueBody = verified(due);
    expect(dueBody).toMatchObject({ type: 'touchpoint.due', data: { touchpoint: { id: crm.id } } });
    expect(JSON.stringify(dueBody.data)).toContain('"order":"981"');

    const row = await waitForStatus(t.deps.db, crm.id, ['sent'], WAIT_MS);
    expect(row.sentAt).toBeInstanceOf(Date);
    const sent = await received('touchpoint.sent', crm.id);
    expect(verified(sent)).toMatchObject({
      type: 'touchpoint.sent',
      data: { touchpoint: { id: crm.id, status: 'sent' } },
    });
    expect(rx.received.indexOf(sent)).toBeGreaterThan(rx.received.indexOf(due));
  });

  it('the welcome email arrives by SMTP, and its open pixel and tracked link record engagement', async () => {
    const welcome = touchpoints['onboarding/welcome']!;
    expect(welcome.due_at).toBe('2026-11-23T13:00:00.000Z'); // Monday 10:00 in São Paulo
    await fallDue(welcome);
    const row = await waitForStatus(t.deps.db, welcome.id, ['sent', 'failed', 'skipped'], WAIT_MS);
    expect(row).toMatchObject({ status: 'sent', statusReason: null });
    const mail = await waitFor(
      () => smtp.messages.find((m) => m.to.includes('ana@example.com')),
      WAIT_MS,
      'the welcome email',
    );
    expect(mail.header('Subject')).toBeTruthy();
    expect(mail.decoded).toContain('Ana');

    const pixel = new RegExp(`${PUBLIC_URL}(/t/o/[A-Za-z0-9_.-]+)`).exec(mail.decoded)?.[1];
    const click = new RegExp(`${PUBLIC_URL}(/t/c/[A-Za-z0-9_.-]+)`).exec(mail.decoded)?.[1];
    expect(pixel, 'open pixel in the email').toBeDefined();
    expect(click, 'tracked link in the email').toBeDefined();

    clock.set('2026-11-23T15:00:00Z');
    const opened = await t.app.inject({ method: 'GET', url: pixel! });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers['content-type']).toContain('image/gif');
    expect((await touchpointRow(t.deps.db, welcome.id)).openedAt?.toISOString()).toBe(
      '2026-11-23T15:00:00.000Z',
    );

    clock.set('2026-11-23T15:05:00Z');
    const clicked = await t.app.inject({ method: 'GET', url: click! });
    expect(clicked.statusCode).toBe(302);
    expect(clicked.headers.location).toBe(HELP);
    const engaged = await touchpointRow(t.deps.db, welcome.id);
    expect(engaged.clickedAt?.toISOString()).toBe('2026-11-23T15:05:00.000Z');
    // The first open is kept.
    expect(engaged.openedAt?.toISOString()).toBe('2026-11-23T15:00:00.000Z');
  });

  it('the call task becomes pending (task.created), and its outcome completes it (task.completed)', async () => {
    const checkin = touchpoints['onboarding/checkin-call']!;
    expect(checkin.due_at).toBe('2026-11-30T13:00:00.000Z'); // Monday 10:00 in São Paulo
    await fallDue(checkin);
    await waitForStatus(t.deps.db, checkin.id, ['pending'], WAIT_MS);
    const created = verified(await received('task.created', checkin.id));
    expect(created).toMatchObject({ type: 'task.created', data: { touchpoint: { id: checkin.id } } });

    clock.set('2026-11-30T14:00:00Z');
    const outcome = await call(t.app, 'POST', `/v1/touchpoints/${checkin.id}/outcome`, shop.key, {
      outcome: 'completed',
      notes: 'Cliente satisfeita; pediu material sobre relatórios.',
    });
    expect(outcome.statusCode, outcome.body).toBe(200);
    expect(await touchpointRow(t.deps.db, checkin.id)).toMatchObject({
      status: 'completed',
      outcome: 'completed',
    });
    const completed = verified(await received('task.completed', checkin.id));
    expect(completed).toMatchObject({ type: 'task.completed', data: { touchpoint: { id: checkin.id } } });
  });
});
