// Dispatch jobs that run at once are decided together, in one transaction (decideGroup). These
// tests hand a group to it directly, with touchpoints the pump has queued, so that what shares a
// group is certain rather than a matter of timing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchItem } from '../src/modules/dispatch/dispatch-context.js';
import { decideGroup } from '../src/modules/dispatch/dispatch-group.js';
import { dispatchContext, dispatchTasks } from '../src/modules/dispatch/dispatch-runtime.js';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { clearPlaybooks, create, outboxFor, touchpointRow } from './helpers/dispatch.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

const START = '2026-11-20T12:00:00Z';
const DUE = '2026-11-20T13:00:00.000Z';
const clock = new TestClock(START);
let t: TestApp;
let pump: TestWorker;
let shop: { id: string; key: string };
let seq = 0;

beforeAll(async () => {
  // An SMTP server is named so that emails are decided `send`; nothing here delivers them.
  t = await startTestApp({ clock, env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
  // The pump only: the jobs it queues stay in Redis, and the tests decide them.
  pump = startTestWorker(t.deps, { consumers: [], tasks: dispatchTasks(t.deps) });
  shop = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  await clearPlaybooks(t.app, shop.key);
  await create(t.app, shop.key, '/v1/templates', {
    key: 'hello-mail',
    channel: 'email',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [
      { key: 'a', weight: 1, subject: 'Oi, {{ customer.name }}', text: 'Olá, {{ customer.name }}.' },
    ],
  });
  await create(t.app, shop.key, '/v1/templates', {
    key: 'crm-push',
    channel: 'webhook',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [{ key: 'a', weight: 1, payload: { customer: '{{ customer.id }}' } }],
  });
  const playbook = (key: string, steps: unknown[]) =>
    create(t.app, shop.key, '/v1/playbooks', {
      key,
      name: key,
      trigger: { event: `custom.${key}` },
      reentry: 'always',
      steps,
    });
  const mail = (key: string, extra: Record<string, unknown> = {}) => ({
    key,
    after: 'PT1H',
    channel: 'email',
    template: 'hello-mail',
    ...extra,
  });
  await playbook('pair', [mail('first'), mail('second')]);
  await playbook('gold', [
    mail('gold-only', { send_if: { '==': [{ var: 'customer.attributes.plan' }, 'gold'] } }),
  ]);
  await playbook('push', [{ key: 'crm', after: 'PT1H', channel: 'webhook', template: 'crm-push' }]);
});

afterAll(async () => {
  await pump?.close();
  await dispatchContext(t.deps).email?.close();
  await t?.close();
});

/** Posts a playbook's trigger for a new customer at START; returns its touchpoints. */
async function plan(playbook: string, attributes: Record<string, unknown> = {}): Promise<TouchpointItem[]> {
  clock.set(START);
  const customerId = `c-${++seq}`;
  const response = await call(t.app, 'POST', '/v1/events', shop.key, {
    id: `e-${seq}`,
    type: `custom.${playbook}`,
    occurred_at: START,
    customer: { id: customerId, name: 'Ana', email: `ana${seq}@example.com`, attributes },
  });
  expect(response.statusCode, response.body).toBe(202);
  const list = await call(t.app, 'GET', `/v1/touchpoints?customer_id=${customerId}`, shop.key);
  return list.json().data;
}

/** The job the pump queued for a touchpoint, as the dispatch worker hands it on. */
async function item(tp: TouchpointItem, dueAtMs = Date.parse(tp.due_at)): Promise<DispatchItem> {
  const row = await touchpointRow(t.deps.db, tp.id);
  return { workspaceId: shop.id, touchpointId: tp.id, customerId: row.customerId, dueAtMs };
}

describe('dispatch groups', () => {
  it('decides a group in one transaction, each job with its own outcome', async () => {
    const [first, second] = await plan('pair');
    const [conditional] = await plan('gold', { plan: 'silver' });
    const [push] = await plan('push');
    const [stale] = await plan('gold', { plan: 'gold' });
    if (!first || !second || !conditional || !push || !stale) throw new Error('touchpoints expected');
    clock.set(DUE);
    await pump.runNow('dispatch-pump');
    for (const tp of [first, second, conditional, push, stale]) {
      expect((await touchpointRow(t.deps.db, tp.id)).status).toBe('queued');
    }

    const steps = await decideGroup(dispatchContext(t.deps), shop.id, [
      await item(first),
      await item(second),
      await item(conditional),
      await item(push),
      await item(first),
      await item(stale, Date.parse(stale.due_at) - 60_000),
    ]);

    // The email is frozen to be sent after the commit.
    expect(steps[0]).toMatchObject({ kind: 'deliver', delivery: { touchpoint: { id: first.id } } });
    expect(await touchpointRow(t.deps.db, first.id)).toMatchObject({
      status: 'sending',
      templateVersion: 1,
      variant: 'a',
      content: expect.objectContaining({ subject: 'Oi, Ana' }),
    });
    // The same customer's second email, decided after the first: the cap (1 a day) moves it.
    expect(steps[1]).toMatchObject({ kind: 'postponed', reason: 'frequency_cap' });
    const postponed = await touchpointRow(t.deps.db, second.id);
    expect(postponed).toMatchObject({ status: 'scheduled', statusReason: 'frequency_cap', queuedAt: null });
    expect(postponed.dueAt.toISOString()).toBe('2026-11-21T13:00:00.000Z');
    expect(steps[2]).toEqual({ kind: 'settled', status: 'skipped', reason: 'condition' });
    expect(await touchpointRow(t.deps.db, conditional.id)).toMatchObject({
      status: 'skipped',
      statusReason: 'condition',
    });
    // A webhook step goes to `sending` with its touchpoint.due event, written in the same go.
    expect(steps[3]).toEqual({ kind: 'settled', status: 'sending', reason: null });
    expect((await outboxFor(t.deps.db, push.id)).map((e) => e.type)).toEqual(['touchpoint.due']);
    // The same touchpoint twice: the first job decides it.
    expect(steps[4]).toEqual({ kind: 'noop', reason: 'moved' });
    // A job queued for an earlier due time does nothing, and leaves its touchpoint queued.
    expect(steps[5]).toEqual({ kind: 'noop', reason: 'stale' });
    expect((await touchpointRow(t.deps.db, stale.id)).status).toBe('queued');
  });

  it('a job whose touchpoint has moved on, or whose customer does not match, does nothing', async () => {
    const [done] = await plan('push');
    const [other] = await plan('push');
    if (!done || !other) throw new Error('touchpoints expected');
    clock.set(DUE);
    await pump.runNow('dispatch-pump');
    const ctx = dispatchContext(t.deps);
    expect(await decideGroup(ctx, shop.id, [await item(done)])).toEqual([
      { kind: 'settled', status: 'sending', reason: null },
    ]);
    const mismatched = { ...(await item(other)), customerId: (await item(done)).customerId };
    expect(await decideGroup(ctx, shop.id, [await item(done), mismatched])).toEqual([
      { kind: 'noop', reason: 'sending' },
      { kind: 'noop', reason: 'gone' },
    ]);
    expect((await touchpointRow(t.deps.db, other.id)).status).toBe('queued');
    expect((await outboxFor(t.deps.db, done.id)).map((e) => e.type)).toEqual(['touchpoint.due']);
  });
});
