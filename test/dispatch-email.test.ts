import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchQueue } from '../src/modules/dispatch/dispatch-queue.js';
import { verifyTrackingToken } from '../src/modules/tracking/tracking-token.js';
import { call, createWorkspace, startTestApp, type TestApp } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import {
  clearPlaybooks,
  create,
  outboxFor,
  startSmtp,
  type TestSmtp,
  touchpointRow,
  waitForStatus,
} from './helpers/dispatch.js';
import { waitFor } from './helpers/process.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

// Friday 20 Nov 2026, 09:00 in São Paulo.
const START = '2026-11-20T12:00:00Z';
const PUBLIC_URL = 'https://posvenda.example.com';
const HELP = 'https://shop.example.com/help';
const TERMINAL = ['sent', 'failed', 'skipped', 'cancelled'];

const clock = new TestClock(START);
let smtp: TestSmtp;
let t: TestApp;
let worker: TestWorker;
let shop: { id: string; key: string };
let seq = 0;

beforeAll(async () => {
  smtp = await startSmtp();
  t = await startTestApp({
    clock,
    env: { SMTP_URL: smtp.url, PUBLIC_URL, DISPATCH_BACKOFF_MS: '20', DISPATCH_ATTEMPTS: '4' },
  });
  worker = startTestWorker(t.deps);
  shop = await createWorkspace(t.app, { timezone: 'America/Sao_Paulo' });
  await clearPlaybooks(t.app, shop.key);
  await create(t.app, shop.key, '/v1/templates', {
    key: 'hello-mail',
    channel: 'email',
    locale: 'pt-BR',
    tone: 'informal',
    variants: [
      {
        key: 'a',
        weight: 1,
        subject: 'Oi, {{ customer.first_name }}!',
        html:
          `<html><body><p>Olá, {{ customer.name }}</p><a href="{{ '${HELP}' | track }}">ajuda</a>` +
          ' <a href="{{ links.unsubscribe }}">sair</a></body></html>',
        text: `Olá, {{ customer.name }}. Ajuda: {{ '${HELP}' | track }}`,
      },
    ],
  });
  const step = (key: string, after: string, extra: Record<string, unknown> = {}) => ({
    key,
    after,
    channel: 'email',
    template: 'hello-mail',
    ...extra,
  });
  const playbook = (key: string, steps: unknown[], extra: Record<string, unknown> = {}) =>
    create(t.app, shop.key, '/v1/playbooks', {
      key,
      name: key,
      trigger: { event: `custom.${key.replaceAll('-', '_')}` },
      reentry: 'always',
      steps,
      ...extra,
    });
  await playbook('mail-once', [step('hello', 'PT1H')], { exit_on: [{ event: 'cancellation' }] });
  await playbook('mail-twice', [step('first', 'PT1H'), step('second', 'PT2H')]);
  await playbook('mail-cond', [
    step('gold-only', 'PT1H', { send_if: { '==': [{ var: 'customer.attributes.plan' }, 'gold'] } }),
  ]);
});

afterAll(async () => {
  await worker?.close();
  await t?.close();
  await smtp?.close();
});

/** Posts the playbook's trigger event for a new customer now; returns its touchpoints. */
async function plan(
  playbook: string,
  customer: Record<string, unknown> = {},
  at = START,
): Promise<{ customerId: string; email: string; touchpoints: TouchpointItem[] }> {
  clock.set(at);
  const customerId = `c-${++seq}`;
  const email = customer.email === undefined ? `ana${seq}@example.com` : (customer.email as string);
  const profile: Record<string, unknown> = {
    id: customerId,
    name: 'ana souza',
    timezone: 'America/Sao_Paulo',
  };
  Object.assign(profile, customer, { email });
  if (email === null) delete profile.email;
  const response = await call(t.app, 'POST', '/v1/events', shop.key, {
    id: `e-${seq}`,
    type: `custom.${playbook.replaceAll('-', '_')}`,
    occurred_at: at,
    customer: profile,
  });
  expect(response.statusCode, response.body).toBe(202);
  const list = await call(t.app, 'GET', `/v1/touchpoints?customer_id=${customerId}`, shop.key);
  return { customerId, email, touchpoints: list.json().data };
}

/** Moves the clock to the touchpoint's due time, runs the pump, waits for the outcome. */
async function dispatchAt(
  touchpoint: { id: string; due_at: string },
  at = touchpoint.due_at,
  until = TERMINAL,
) {
  clock.set(at);
  await worker.runNow('dispatch-pump');
  return waitForStatus(t.deps.db, touchpoint.id, until);
}

const mailsTo = (address: string) => smtp.messages.filter((m) => m.to.includes(address));

describe('email dispatch over SMTP', () => {
  it('sends with RFC 8058 unsubscribe headers, a stable Message-ID, text and html parts, open pixel and tracked links', async () => {
    const { email, touchpoints } = await plan('mail-once');
    const [tp] = touchpoints;
    expect(tp).toMatchObject({ step: 'hello', status: 'scheduled' });
    if (!tp) throw new Error('no touchpoint');
    const row = await dispatchAt(tp);
    expect(row).toMatchObject({
      status: 'sent',
      statusReason: null,
      templateVersion: 1,
      variant: 'a',
      attempts: 1,
    });
    expect(row.sentAt?.toISOString()).toBe(tp.due_at);
    expect(row.deliveredAt?.toISOString()).toBe(tp.due_at);
    expect(row.providerMessageId).toBe(`<${tp.id}@posvenda.example.com>`);

    const [mail] = mailsTo(email);
    if (!mail) throw new Error('no mail captured');
    expect(mail.header('Message-ID')).toBe(`<${tp.id}@posvenda.example.com>`);
    expect(mail.header('Subject')).toBe('Oi, Ana!');
    const unsubscribe = /^<(https:\/\/posvenda\.example\.com\/u\/[^>]+)>$/.exec(
      mail.header('List-Unsubscribe') ?? '',
    );
    expect(unsubscribe).not.toBeNull();
    expect(mail.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);
    // The open pixel and the click link are signed tokens for this touchpoint.
    const key = await t.deps.secrets.signingKey();
    const pixel = /<img src="https:\/\/posvenda\.example\.com\/t\/o\/([^"]+)"/.exec(mail.decoded);
    expect(verifyTrackingToken(key, pixel?.[1] ?? '', 'o')).toMatchObject({ kind: 'o', touchpointId: tp.id });
    const clicks = [...mail.decoded.matchAll(/https:\/\/posvenda\.example\.com\/t\/c\/([A-Za-z0-9_.-]+)/g)];
    expect(clicks.length).toBeGreaterThanOrEqual(2); // html and text parts
    for (const click of clicks) {
      expect(verifyTrackingToken(key, click[1] ?? '', 'c')).toMatchObject({
        kind: 'c',
        url: HELP,
        touchpointId: tp.id,
      });
    }
    expect(mail.decoded).not.toContain(`href="${HELP}"`);
    expect(mail.decoded).toContain(`href="${unsubscribe?.[1]}"`);

    // Stored: the content, one succeeded attempt, and touchpoint.sent in the outbox.
    const detail = (await call(t.app, 'GET', `/v1/touchpoints/${tp.id}`, shop.key)).json();
    expect(detail.content).toMatchObject({ channel: 'email', subject: 'Oi, Ana!', rendered_at: tp.due_at });
    expect(detail.attempts).toEqual([
      {
        attempt: 1,
        at: tp.due_at,
        status: 'succeeded',
        error: null,
        provider_message_id: row.providerMessageId,
      },
    ]);
    const events = await outboxFor(t.deps.db, tp.id);
    expect(events.map((e) => e.type)).toEqual(['touchpoint.sent']);
    expect(events[0]?.data).toMatchObject({
      touchpoint: { id: tp.id, playbook: 'mail-once', step: 'hello', channel: 'email', status: 'sent' },
      customer: { email, name: 'ana souza' },
      content: { subject: 'Oi, Ana!' },
    });
  });

  it('a job that runs again after the send was recorded sends nothing more', async () => {
    const { email, touchpoints } = await plan('mail-once');
    const tp = touchpoints[0];
    if (!tp) throw new Error('no touchpoint');
    await dispatchAt(tp);
    const queue = dispatchQueue(t.deps.redis, t.deps.config.queuePrefix);
    const data = { workspaceId: shop.id, touchpointId: tp.id, dueAtMs: new Date(tp.due_at).getTime() };
    for (const jobId of [`again-${tp.id}`, `again2-${tp.id}`]) {
      const job = await queue.add('dispatch', data, { jobId });
      await waitFor(
        async () => ((await job.getState()) === 'completed' ? true : undefined),
        10_000,
        'the job',
      );
    }
    expect(mailsTo(email)).toHaveLength(1);
    expect((await touchpointRow(t.deps.db, tp.id)).attempts).toBe(1);
    expect((await outboxFor(t.deps.db, tp.id)).map((e) => e.type)).toEqual(['touchpoint.sent']);
  });

  it('SMTP 5xx: failed at once, no retry, touchpoint.failed in the outbox', async () => {
    const { email, touchpoints } = await plan('mail-once', { email: `reject-${seq + 1}@example.com` });
    const tp = touchpoints[0];
    if (!tp) throw new Error('no touchpoint');
    const row = await dispatchAt(tp);
    expect(row).toMatchObject({ status: 'failed', statusReason: 'smtp_rejected', attempts: 1 });
    // Give a wrongly scheduled retry (backoff 20 ms) time to happen.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.rcptCount.get(email)).toBe(1);
    const detail = (await call(t.app, 'GET', `/v1/touchpoints/${tp.id}`, shop.key)).json();
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]).toMatchObject({ status: 'failed' });
    expect(detail.attempts[0].error).toMatch(/^550/);
    expect((await outboxFor(t.deps.db, tp.id)).map((e) => e.type)).toEqual(['touchpoint.failed']);
  });

  it('SMTP 4xx: retried with backoff, then sent; each attempt recorded', async () => {
    const { email, touchpoints } = await plan('mail-once', { email: `later-${seq + 1}@example.com` });
    const tp = touchpoints[0];
    if (!tp) throw new Error('no touchpoint');
    const row = await dispatchAt(tp);
    expect(row).toMatchObject({ status: 'sent', attempts: 3 });
    expect(smtp.rcptCount.get(email)).toBe(3);
    expect(mailsTo(email)).toHaveLength(1);
    const detail = (await call(t.app, 'GET', `/v1/touchpoints/${tp.id}`, shop.key)).json();
    expect(detail.attempts.map((a: { status: string }) => a.status)).toEqual([
      'failed',
      'failed',
      'succeeded',
    ]);
    expect(detail.attempts[0].error).toMatch(/^451/);
  });

  it('SMTP 4xx on every attempt: failed (smtp_unavailable) after the last one', async () => {
    const { email, touchpoints } = await plan('mail-once', { email: `busy-${seq + 1}@example.com` });
    const tp = touchpoints[0];
    if (!tp) throw new Error('no touchpoint');
    const row = await dispatchAt(tp);
    expect(row).toMatchObject({ status: 'failed', statusReason: 'smtp_unavailable', attempts: 4 });
    expect(smtp.rcptCount.get(email)).toBe(4);
    expect((await outboxFor(t.deps.db, tp.id)).map((e) => e.type)).toEqual(['touchpoint.failed']);
  });
});

describe('send-time checks', () => {
  const only = async (playbook: string, customer: Record<string, unknown> = {}, at = START) => {
    const planned = await plan(playbook, customer, at);
    const tp = planned.touchpoints[0];
    if (!tp) throw new Error('no touchpoint');
    return { ...planned, tp };
  };

  it('consent withdrawn since planning: skipped (consent), nothing sent', async () => {
    const { customerId, email, tp } = await only('mail-once');
    const put = await call(t.app, 'PUT', `/v1/customers/${customerId}/consent/email`, shop.key, {
      status: 'opted_out',
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(await dispatchAt(tp)).toMatchObject({ status: 'skipped', statusReason: 'consent' });
    expect(mailsTo(email)).toEqual([]);
    expect(await outboxFor(t.deps.db, tp.id)).toEqual([]);
  });

  it('no email address: skipped (no_address)', async () => {
    const { tp } = await only('mail-once', { email: null });
    expect(await dispatchAt(tp)).toMatchObject({ status: 'skipped', statusReason: 'no_address' });
  });

  it('send_if over the customer as it is now: false → skipped (condition), true → sent', async () => {
    const silver = await only('mail-cond', { attributes: { plan: 'silver' } });
    expect(await dispatchAt(silver.tp)).toMatchObject({ status: 'skipped', statusReason: 'condition' });
    expect(mailsTo(silver.email)).toEqual([]);
    const gold = await only('mail-cond', { attributes: { plan: 'silver' } });
    // The customer changed after planning: send_if sees the customer at send time.
    const update = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: `e-upgrade-${seq}`,
      type: 'activity',
      occurred_at: START,
      customer: { id: gold.customerId, attributes: { plan: 'gold' } },
    });
    expect(update.statusCode, update.body).toBe(202);
    expect(await dispatchAt(gold.tp)).toMatchObject({ status: 'sent' });
    expect(mailsTo(gold.email)).toHaveLength(1);
  });

  it('frequency cap (1 email a day): the second email is postponed to the next allowed slot, then sent', async () => {
    const { email, touchpoints } = await plan('mail-twice');
    const [first, second] = touchpoints;
    if (!first || !second) throw new Error('two touchpoints expected');
    const sent = await dispatchAt(first);
    expect(sent.status).toBe('sent');
    const postponed = await dispatchAt(second, second.due_at, ['scheduled']);
    const slot = new Date(sent.sentAt!.getTime() + 24 * 3600 * 1000);
    expect(postponed).toMatchObject({ status: 'scheduled', statusReason: 'frequency_cap', queuedAt: null });
    expect(postponed.dueAt.toISOString()).toBe(slot.toISOString());
    expect(mailsTo(email)).toHaveLength(1);
    // Not dropped: at the new due time it goes out.
    const later = await dispatchAt({ id: second.id, due_at: slot.toISOString() });
    expect(later).toMatchObject({ status: 'sent' });
    expect(later.sentAt?.toISOString()).toBe(slot.toISOString());
    expect(mailsTo(email)).toHaveLength(2);
  });

  it('quiet hours (21:00–08:00 local): a late email is moved to 08:00, then sent', async () => {
    // 19:00 in São Paulo; due 20:00; the worker gets to it at 21:30.
    const { email, tp } = await only('mail-once', {}, '2026-11-20T22:00:00Z');
    const moved = await dispatchAt(tp, '2026-11-21T00:30:00Z', ['scheduled']);
    expect(moved).toMatchObject({ status: 'scheduled', statusReason: 'quiet_hours' });
    expect(moved.dueAt.toISOString()).toBe('2026-11-21T11:00:00.000Z');
    expect(mailsTo(email)).toEqual([]);
    expect(await dispatchAt({ id: tp.id, due_at: '2026-11-21T11:00:00.000Z' })).toMatchObject({
      status: 'sent',
    });
    expect(mailsTo(email)).toHaveLength(1);
  });

  it('enrollment exited after the touchpoint was queued: not sent', async () => {
    const { customerId, email, tp } = await only('mail-once');
    // Queued three seconds ahead: the job waits in Redis while the customer cancels.
    clock.set(new Date(new Date(tp.due_at).getTime() - 3000));
    await worker.runNow('dispatch-pump');
    expect((await touchpointRow(t.deps.db, tp.id)).status).toBe('queued');
    const cancel = await call(t.app, 'POST', '/v1/events', shop.key, {
      id: `e-cancel-${seq}`,
      type: 'cancellation',
      occurred_at: clock.now().toISOString(),
      customer: { id: customerId },
    });
    expect(cancel.statusCode, cancel.body).toBe(202);
    expect((await touchpointRow(t.deps.db, tp.id)).status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 3500)); // the job runs, and does nothing
    expect(await touchpointRow(t.deps.db, tp.id)).toMatchObject({ status: 'cancelled' });
    expect(mailsTo(email)).toEqual([]);
  });

  it('enrollment ended in a race the ingest did not see: the dispatcher cancels at send time', async () => {
    const { email, tp } = await only('mail-once');
    const row = await touchpointRow(t.deps.db, tp.id);
    await t.deps.db
      .updateTable('enrollments')
      .set({ status: 'exited', exitReason: 'cancellation' })
      .where('id', '=', row.enrollmentId)
      .execute();
    expect(await dispatchAt(tp)).toMatchObject({ status: 'cancelled', statusReason: 'exited:cancellation' });
    expect(mailsTo(email)).toEqual([]);
  });

  it('later than the late grace (24 h) when the worker gets to it: skipped (late), not sent', async () => {
    const { email, tp } = await only('mail-once');
    const late = new Date(new Date(tp.due_at).getTime() + 25 * 3600 * 1000).toISOString();
    expect(await dispatchAt(tp, late)).toMatchObject({ status: 'skipped', statusReason: 'late' });
    expect(mailsTo(email)).toEqual([]);
  });
});
