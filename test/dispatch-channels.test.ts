import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setVariantOverride } from '../src/modules/alerts/variant-overrides.js';
import { call, createWorkspace, problemOf, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { clearPlaybooks, create, outboxFor, touchpointRow, waitForStatus } from './helpers/dispatch.js';
import { waitFor } from './helpers/process.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Friday 20 Nov 2026, 09:00 in São Paulo. No SMTP_URL in this file.
const START = '2026-11-20T12:00:00Z';
const ENDPOINT = '019a9a6e-1f00-7000-8000-0000000000e1';
const SETTLED = ['sent', 'failed', 'skipped', 'cancelled', 'pending', 'sending'];

const clock = new TestClock(START);
let t: TestApp;
let worker: TestWorker;
let shop: { id: string; key: string };
let seq = 0;

beforeAll(async () => {
  t = await startTestApp({ clock });
  worker = startTestWorker(t.deps);
  shop = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  await clearPlaybooks(t.app, shop.key);
  await create(t.app, shop.key, '/v1/templates', {
    key: 'call-script',
    channel: 'task',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [
      {
        key: 'a',
        weight: 1,
        script: {
          opening: 'Oi, {{ customer.first_name }}! Aqui é da loja.',
          diagnosis: ['Como foi a entrega do pedido {{ event.properties.order_id }}?'],
          value_proposal: 'Podemos ajudar a configurar.',
          call_to_action: 'Agendar uma demonstração.',
          objections: [{ objection: 'Sem tempo', answer: 'São 15 minutos.' }],
          escalation: 'Reclamação grave: passar ao gerente.',
        },
      },
    ],
  });
  await create(t.app, shop.key, '/v1/templates', {
    key: 'crm-push',
    channel: 'webhook',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [
      {
        key: 'a',
        weight: 1,
        payload: { who: '{{ customer.id }}', order: '{{ event.properties.order_id }}' },
      },
    ],
  });
  await create(t.app, shop.key, '/v1/templates', {
    key: 'plain-mail',
    channel: 'email',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [{ key: 'a', weight: 1, subject: 'Oi, {{ customer.first_name }}', text: 'Obrigado!' }],
  });
  await create(t.app, shop.key, '/v1/playbooks', {
    key: 'mixed',
    name: 'Mixed channels',
    trigger: { event: 'custom.mixed' },
    reentry: 'always',
    steps: [
      { key: 'call', after: 'PT1H', channel: 'task', task: { kind: 'call' }, template: 'call-script' },
      { key: 'crm', after: 'PT1H', channel: 'webhook', template: 'crm-push', endpoint: ENDPOINT },
      { key: 'mail', after: 'PT1H', channel: 'email', template: 'plain-mail' },
    ],
  });
});

afterAll(async () => {
  await worker?.close();
  await t?.close();
});

/** Plans the mixed playbook for a new customer; returns its touchpoints by step. */
async function plan(): Promise<{ customerId: string; byStep: Record<string, TouchpointItem> }> {
  clock.set(START);
  const customerId = `c-${++seq}`;
  const response = await call(t.app, 'POST', '/v1/events', shop.key, {
    id: `e-${seq}`,
    type: 'custom.mixed',
    occurred_at: START,
    customer: { id: customerId, name: 'Bia Lima', email: `bia${seq}@example.com`, phone: '+5511988887777' },
    properties: { order_id: `o-${seq}` },
  });
  expect(response.statusCode, response.body).toBe(202);
  const list = await call(t.app, 'GET', `/v1/touchpoints?customer_id=${customerId}`, shop.key);
  const items = list.json().data as TouchpointItem[];
  return { customerId, byStep: Object.fromEntries(items.map((item) => [item.step, item])) };
}

/** Runs everything due at the touchpoints' due time and waits until each has moved on. */
async function dispatchAll(items: TouchpointItem[]) {
  clock.set(items[0]?.due_at ?? START);
  await worker.runNow('dispatch-pump');
  return Promise.all(items.map((item) => waitForStatus(t.deps.db, item.id, SETTLED)));
}

const detail = async (id: string) => (await call(t.app, 'GET', `/v1/touchpoints/${id}`, shop.key)).json();
const outcome = (id: string, body: unknown) =>
  call(t.app, 'POST', `/v1/touchpoints/${id}/outcome`, shop.key, body);

describe('channels without SMTP', () => {
  it('email with SMTP_URL unset: rendered and stored, skipped (smtp_not_configured)', async () => {
    const { byStep } = await plan();
    const mail = byStep.mail as TouchpointItem;
    const [row] = await dispatchAll([mail]);
    expect(row).toMatchObject({ status: 'skipped', statusReason: 'smtp_not_configured', variant: 'a' });
    expect((await detail(mail.id)).content).toMatchObject({
      channel: 'email',
      subject: 'Oi, Bia',
      text: 'Obrigado!',
    });
    expect(await outboxFor(t.deps.db, mail.id)).toEqual([]);
  });

  it('webhook step: sending with its payload, and exactly one touchpoint.due for its endpoint in the outbox', async () => {
    const { customerId, byStep } = await plan();
    const crm = byStep.crm as TouchpointItem;
    const [row] = await dispatchAll([crm]);
    expect(row).toMatchObject({ status: 'sending', templateVersion: 1, variant: 'a' });
    const content = (await detail(crm.id)).content;
    expect(content).toMatchObject({ channel: 'webhook', payload: { who: customerId, order: `o-${seq}` } });
    const events = await outboxFor(t.deps.db, crm.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: crm.id,
      type: 'touchpoint.due',
      endpointId: ENDPOINT,
      dispatchedAt: null,
    });
    expect(events[0]?.data).toEqual({
      touchpoint: {
        id: crm.id,
        playbook: 'mixed',
        step: 'crm',
        channel: 'webhook',
        due_at: crm.due_at,
        status: 'sending',
      },
      customer: {
        id: customerId,
        name: 'Bia Lima',
        email: `bia${seq}@example.com`,
        phone: '+5511988887777',
        segment: null,
      },
      content,
    });
    // A duplicate job finds it sending and leaves it to the webhook deliveries.
    clock.set(crm.due_at);
    await worker.runNow('dispatch-recovery');
    expect(await outboxFor(t.deps.db, crm.id)).toHaveLength(1);
  });

  it('task: pending at due time with its rendered script, task.created in the outbox, on the calendar', async () => {
    const { byStep } = await plan();
    const task = byStep.call as TouchpointItem;
    const [row] = await dispatchAll([task]);
    expect(row).toMatchObject({ status: 'pending', variant: 'a' });
    const shown = await detail(task.id);
    expect(shown.content).toMatchObject({
      channel: 'task',
      script: {
        opening: 'Oi, Bia! Aqui é da loja.',
        diagnosis: [`Como foi a entrega do pedido o-${seq}?`],
        objections: [{ objection: 'Sem tempo', answer: 'São 15 minutos.' }],
      },
    });
    const events = await outboxFor(t.deps.db, task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created']);
    expect(events[0]?.data).toMatchObject({
      touchpoint: { status: 'pending' },
      content: { script: { opening: 'Oi, Bia! Aqui é da loja.' } },
    });
    const calendar = await call(
      t.app,
      'GET',
      '/v1/calendar?from=2026-11-20&to=2026-11-20&status=pending',
      shop.key,
    );
    expect(calendar.statusCode, calendar.body).toBe(200);
    const ids = calendar
      .json()
      .days.flatMap((d: { touchpoints: { id: string }[] }) => d.touchpoints.map((x) => x.id));
    expect(ids).toContain(task.id);
  });
});

describe('variant switched by an alert rule', () => {
  it('touchpoints of the step use the switched variant, whatever the sticky one of the customer', async () => {
    await create(t.app, shop.key, '/v1/templates', {
      key: 'ab-mail',
      channel: 'email',
      locale: 'pt-BR',
      tone: 'informal',
      variants: [
        { key: 'a', weight: 1, subject: 'A', text: 'Versão A' },
        { key: 'b', weight: 1, subject: 'B', text: 'Versão B' },
      ],
    });
    await create(t.app, shop.key, '/v1/playbooks', {
      key: 'ab',
      name: 'A/B',
      trigger: { event: 'custom.ab' },
      reentry: 'always',
      steps: [{ key: 'mail', after: 'PT1H', channel: 'email', template: 'ab-mail' }],
    });
    await setVariantOverride(t.deps.db, {
      workspaceId: shop.id,
      playbookKey: 'ab',
      stepKey: 'mail',
      variant: 'b',
      ruleId: null,
      at: new Date(START),
    });
    clock.set(START);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const customerId = `ab-${i}`;
      const posted = await call(t.app, 'POST', '/v1/events', shop.key, {
        id: `ab-e-${i}`,
        type: 'custom.ab',
        occurred_at: START,
        customer: { id: customerId, email: `ab${i}@example.com` },
      });
      expect(posted.statusCode, posted.body).toBe(202);
      const list = await call(t.app, 'GET', `/v1/touchpoints?customer_id=${customerId}`, shop.key);
      ids.push(...(list.json().data as TouchpointItem[]).map((item) => item.id));
    }
    expect(ids).toHaveLength(8);
    clock.set('2026-11-20T13:00:00Z');
    await worker.runNow('dispatch-pump');
    for (const id of ids) await waitForStatus(t.deps.db, id, SETTLED);
    const variants = await Promise.all(ids.map(async (id) => (await detail(id)).variant));
    // Eight customers split 1:1 would all land on b once in 256 runs; the switch makes it always.
    expect(variants).toEqual(Array(8).fill('b'));
    expect((await detail(ids[0] as string)).content).toMatchObject({ subject: 'B' });
  });
});

describe("the shop's links", () => {
  it('emails link to the pages set in settings, wrapped for click tracking; unset ones are left out', async () => {
    await create(t.app, shop.key, '/v1/templates', {
      key: 'links-mail',
      channel: 'email',
      locale: 'pt-BR',
      tone: 'informal',
      variants: [
        {
          key: 'a',
          weight: 1,
          subject: 'Planos',
          html:
            '<p>{% if workspace.links.plans != blank %}<a href="{{ workspace.links.plans | track }}">Planos</a>{% endif %}' +
            '{% if workspace.links.help != blank %}<a href="{{ workspace.links.help | track }}">Ajuda</a>{% endif %}</p>',
        },
      ],
    });
    await create(t.app, shop.key, '/v1/playbooks', {
      key: 'links',
      name: 'Links',
      trigger: { event: 'custom.links' },
      reentry: 'always',
      steps: [{ key: 'mail', after: 'PT1H', channel: 'email', template: 'links-mail' }],
    });
    const patched = await call(t.app, 'PATCH', '/v1/settings', shop.key, {
      links: { plans: 'https://loja.example.com/planos' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    clock.set(START);
    const posted = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: 'links-1',
      type: 'custom.links',
      occurred_at: START,
      customer: { id: 'links-c', email: 'links@example.com' },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const list = await call(t.app, 'GET', '/v1/touchpoints?customer_id=links-c', shop.key);
    const [item] = list.json().data as TouchpointItem[];
    await dispatchAll([item as TouchpointItem]);
    const html = (await detail((item as TouchpointItem).id)).content.html as string;
    const href = /href="([^"]+)">Planos/.exec(html)?.[1];
    expect(href, html).toMatch(/\/t\/c\/[\w-]+\.[\w-]+$/);
    expect(html).not.toContain('Ajuda');
    const click = await call(t.app, 'GET', new URL(href as string).pathname, undefined);
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://loja.example.com/planos');
  });
});

describe('POST /v1/touchpoints/{id}/outcome', () => {
  const pendingTask = async () => {
    const { byStep } = await plan();
    const task = byStep.call as TouchpointItem;
    await dispatchAll([task]);
    return { task, others: byStep };
  };

  it('completes a pending task with outcome and notes, and emits task.completed', async () => {
    const { task } = await pendingTask();
    clock.set('2026-11-20T14:00:00Z');
    const response = await outcome(task.id, { outcome: 'converted', notes: 'Comprou o plano anual.' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'completed',
      outcome: 'converted',
      outcome_notes: 'Comprou o plano anual.',
    });
    const row = await touchpointRow(t.deps.db, task.id);
    expect(row.completedAt?.toISOString()).toBe('2026-11-20T14:00:00.000Z');
    expect(row.convertedAt?.toISOString()).toBe('2026-11-20T14:00:00.000Z');
    const events = await outboxFor(t.deps.db, task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.completed']);
    expect(events[1]?.data).toMatchObject({
      touchpoint: { id: task.id, status: 'completed' },
      outcome: 'converted',
      notes: 'Comprou o plano anual.',
    });
    // Only once: a completed task is no longer pending.
    const again = await outcome(task.id, { outcome: 'completed' });
    expect(again.statusCode).toBe(409);
    expect(problemOf(again).code).toBe('not_pending_task');
  });

  it('rescheduled: back to scheduled at reschedule_at, then pending again when due', async () => {
    const { task } = await pendingTask();
    const response = await outcome(task.id, {
      outcome: 'rescheduled',
      reschedule_at: '2026-11-23T14:00:00Z',
      notes: 'Pediu para ligar segunda.',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'scheduled',
      due_at: '2026-11-23T14:00:00.000Z',
      outcome: 'rescheduled',
    });
    expect((await outboxFor(t.deps.db, task.id)).map((e) => e.type)).toEqual(['task.created']);
    clock.set('2026-11-23T14:00:00Z');
    await worker.runNow('dispatch-pump');
    expect(await waitForStatus(t.deps.db, task.id, ['pending'])).toMatchObject({ status: 'pending' });
  });

  it('two outcomes at once: exactly one wins, the other is 409, one task.completed', async () => {
    const { task } = await pendingTask();
    clock.set('2026-11-20T14:00:00Z');
    const answers = await Promise.all([
      outcome(task.id, { outcome: 'completed', notes: 'first' }),
      outcome(task.id, { outcome: 'no_answer', notes: 'second' }),
      outcome(task.id, { outcome: 'rescheduled', reschedule_at: '2026-11-24T14:00:00Z' }),
    ]);
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes, answers.map((a) => a.body).join('\n')).toEqual([200, 409, 409]);
    const winner = answers.find((a) => a.statusCode === 200)?.json();
    const row = await touchpointRow(t.deps.db, task.id);
    expect(row).toMatchObject({ status: winner.status, outcome: winner.outcome });
    const events = (await outboxFor(t.deps.db, task.id)).map((e) => e.type);
    expect(events).toEqual(
      winner.status === 'completed' ? ['task.created', 'task.completed'] : ['task.created'],
    );
  });

  it('a pending task can still be cancelled (by hand here; exits and erasure use the same rule)', async () => {
    const { task } = await pendingTask();
    const response = await call(t.app, 'POST', `/v1/touchpoints/${task.id}/cancel`, shop.key);
    expect(response.statusCode, response.body).toBe(200);
    expect(await touchpointRow(t.deps.db, task.id)).toMatchObject({
      status: 'cancelled',
      statusReason: 'manual',
    });
    expect(problemOf(await outcome(task.id, { outcome: 'completed' })).code).toBe('not_pending_task');
  });

  it('an exit event cancels a task still pending, in the event transaction', async () => {
    await create(t.app, shop.key, '/v1/playbooks', {
      key: 'exit-task',
      name: 'Task until cancellation',
      trigger: { event: 'custom.exit_task' },
      reentry: 'always',
      exit_on: [{ event: 'cancellation' }],
      // A later step keeps the enrollment running after the call falls due.
      steps: [
        { key: 'call', after: 'PT1H', channel: 'task', task: { kind: 'call' }, template: 'call-script' },
        { key: 'later', after: 'P7D', channel: 'email', template: 'plain-mail' },
      ],
    });
    clock.set(START);
    const posted = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: 'exit-task-1',
      type: 'custom.exit_task',
      occurred_at: START,
      customer: { id: 'exit-task-c', name: 'Caio', phone: '+5511977776666' },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    const list = await call(t.app, 'GET', '/v1/touchpoints?customer_id=exit-task-c', shop.key);
    const task = (list.json().data as TouchpointItem[]).find(
      (item) => item.step === 'call',
    ) as TouchpointItem;
    await dispatchAll([task]);
    expect((await touchpointRow(t.deps.db, task.id)).status).toBe('pending');
    clock.set('2026-11-20T14:00:00Z');
    const cancelled = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: 'exit-task-2',
      type: 'cancellation',
      occurred_at: '2026-11-20T14:00:00Z',
      customer: { id: 'exit-task-c' },
    });
    expect(cancelled.statusCode, cancelled.body).toBe(202);
    const row = await touchpointRow(t.deps.db, task.id);
    expect(row.status).toBe('cancelled');
    expect(row.statusReason).toMatch(/^exited:/);
  });

  it('refuses bad input with problem+json naming the field, and changes nothing', async () => {
    const { task, others } = await pendingTask();
    const cases: [unknown, number, string][] = [
      [{ outcome: 'maybe' }, 400, '/body/outcome'],
      [{}, 400, '/body/outcome'],
      [{ outcome: 'completed', extra: 1 }, 400, '/body/extra'],
      [{ outcome: 'rescheduled' }, 422, '/body/reschedule_at'],
      [{ outcome: 'rescheduled', reschedule_at: '2026-11-01T00:00:00Z' }, 422, '/body/reschedule_at'],
      [{ outcome: 'completed', reschedule_at: '2026-12-01T00:00:00Z' }, 422, '/body/reschedule_at'],
      [{ outcome: 'rescheduled', reschedule_at: 'tomorrow' }, 400, '/body/reschedule_at'],
    ];
    for (const [body, status, path] of cases) {
      const response = await outcome(task.id, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      const problem = problemOf(response);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(problem),
      ).toContain(path);
    }
    expect(await touchpointRow(t.deps.db, task.id)).toMatchObject({ status: 'pending', outcome: null });
    // Not a pending task: an email, a scheduled task, an unknown id.
    const mail = others.mail as TouchpointItem;
    expect(problemOf(await outcome(mail.id, { outcome: 'completed' })).status).toBe(409);
    expect((await outcome('019a9a6e-1f00-7000-8000-00000000dead', { outcome: 'completed' })).statusCode).toBe(
      404,
    );
    expect((await touchpointRow(t.deps.db, mail.id)).outcome).toBeNull();
  });
});

describe('frequency cap on tasks', () => {
  it('counts tasks handed to a person (pending, completed): a second call the same day is moved', async () => {
    const capped = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
    await clearPlaybooks(t.app, capped.key);
    const patched = await call(t.app, 'PATCH', '/v1/settings', capped.key, {
      frequency_caps: {
        email: { per_day: 1, per_week: 3 },
        webhook: { per_day: null, per_week: null },
        task: { per_day: 1, per_week: null },
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await create(t.app, capped.key, '/v1/templates', {
      key: 'short-call',
      channel: 'task',
      locale: 'pt-BR',
      tone: 'informal',
      variants: [
        {
          key: 'a',
          weight: 1,
          script: {
            opening: 'Oi, {{ customer.first_name }}!',
            diagnosis: ['Tudo certo?'],
            value_proposal: 'Ajuda.',
            call_to_action: 'Agendar.',
            objections: [],
            escalation: 'Gerente.',
          },
        },
      ],
    });
    const call1 = { channel: 'task', task: { kind: 'meeting' }, template: 'short-call' };
    await create(t.app, capped.key, '/v1/playbooks', {
      key: 'two-calls',
      name: 'Two calls',
      trigger: { event: 'custom.two_calls' },
      reentry: 'always',
      steps: [
        { key: 'first', after: 'PT1H', ...call1 },
        { key: 'second', after: 'PT2H', ...call1 },
      ],
    });
    clock.set(START);
    const planned = await call(t.app, 'POST', '/v1/events', capped.key, {
      id: 'two-calls-1',
      type: 'custom.two_calls',
      occurred_at: START,
      customer: { id: 'c-cap', name: 'Bia Lima' },
    });
    expect(planned.statusCode, planned.body).toBe(202);
    const [first, second] = planned.json().touchpoints as TouchpointItem[];
    if (!first || !second) throw new Error('expected two touchpoints');
    expect(await dispatchAll([first])).toMatchObject([{ status: 'pending' }]);
    // Done before the second is due: completed tasks count as well (at their due time).
    clock.set('2026-11-20T13:30:00Z');
    const done = await call(t.app, 'POST', `/v1/touchpoints/${first.id}/outcome`, capped.key, {
      outcome: 'completed',
    });
    expect(done.statusCode, done.body).toBe(200);

    clock.set(second.due_at);
    await worker.runNow('dispatch-pump');
    const moved = await waitFor(
      async () => {
        const row = await touchpointRow(t.deps.db, second.id);
        return row.statusReason === 'frequency_cap' || row.status !== 'queued' ? row : undefined;
      },
      15_000,
      'the second call to be decided',
    );
    expect(moved).toMatchObject({ status: 'scheduled', statusReason: 'frequency_cap' });
    expect(moved.dueAt.toISOString()).toBe(
      new Date(new Date(first.due_at).getTime() + 86_400_000).toISOString(),
    );

    clock.set(moved.dueAt);
    await worker.runNow('dispatch-pump');
    expect(await waitForStatus(t.deps.db, second.id, ['pending'])).toMatchObject({ status: 'pending' });
  });
});

describe('metrics', () => {
  it('exposes queue depths, dispatch outcomes and due→sent lag', async () => {
    const response = await call(t.app, 'GET', '/metrics', undefined);
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/posvenda_queue_jobs\{queue="dispatch",state="delayed"\} \d+/);
    expect(response.body).toMatch(
      /posvenda_dispatch_outcomes_total\{channel="task",status="pending"\} [1-9]/,
    );
    expect(response.body).toMatch(
      /posvenda_dispatch_outcomes_total\{channel="email",status="skipped"\} [1-9]/,
    );
    expect(response.body).toMatch(/posvenda_dispatch_lag_seconds_count\{channel="task"\} [1-9]/);
  });
});
