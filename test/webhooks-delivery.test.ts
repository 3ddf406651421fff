import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/ids.js';
import { emitEvent } from '../src/modules/outbox/outbox.js';
import { relayCursor, relayOutbox } from '../src/modules/webhooks/outbox-relay.js';
import { enqueueDeliveries, webhookQueue } from '../src/modules/webhooks/webhooks.jobs.js';
import { call, createWorkspace, problemOf, type TestApp } from './helpers/app.js';
import { type Receiver, waitFor } from './helpers/webhook-receiver.js';
import {
  createEndpoint,
  deliveriesOf,
  emit,
  startWebhookHarness,
  type WebhookHarness,
  waitForDeliveries,
} from './helpers/webhooks.js';
import type { TestWorker } from './helpers/worker.js';

// A short schedule: three attempts, 300 ms then 600 ms apart, no jitter; 1 s timeout. Four
// deliveries at once, two at most to one endpoint.
const SCHEDULE = [0, 300, 600];
const options = {
  retryScheduleMs: SCHEDULE,
  timeoutMs: 1000,
  jitter: 0,
  sweepGraceMs: 0,
  concurrency: 4,
  perEndpointConcurrency: 2,
};

let t: TestApp;
let worker: TestWorker;
let rx: Receiver;
let h: WebhookHarness;
let n = 0;
const path = (name: string) => `/${name}-${++n}`;

beforeAll(async () => {
  h = await startWebhookHarness(options, { WEBHOOK_ALLOW_PRIVATE: 'true' });
  ({ t, worker, rx } = h);
});
afterAll(async () => h?.close());

const relay = () => worker.runNow('outbox-relay');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('webhook delivery', () => {
  let shop: { id: string; key: string };
  beforeAll(async () => {
    shop = await createWorkspace(t.app);
  });

  it('POSTs a Standard Webhooks signed { type, timestamp, data } that the official library verifies', async () => {
    const p = path('signed');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    const eventId = randomUUID();
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-1', kind: 'call' } }, { id: eventId });
    await relay();
    const [request] = await waitFor(() => (rx.at(p).length > 0 ? rx.at(p) : undefined));
    const payload = new Webhook(endpoint.secret).verify(
      request!.body,
      request!.headers as Record<string, string>,
    );
    expect(payload).toMatchObject({ type: 'task.created', data: { task: { id: 't-1', kind: 'call' } } });
    expect(Date.parse((payload as { timestamp: string }).timestamp)).not.toBeNaN();
    expect(request!.headers['webhook-id']).toBe(eventId);
    expect(request!.headers['content-type']).toBe('application/json');

    const [delivery] = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d[0]?.status === 'succeeded',
    );
    expect(delivery).toMatchObject({
      event_id: eventId,
      event_type: 'task.created',
      attempts: 1,
      last_status_code: 200,
    });
    expect(delivery!.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, error: null, response_excerpt: 'ok' }),
    ]);

    // A tampered body does not verify.
    expect(() =>
      new Webhook(endpoint.secret).verify(
        request!.body.replace('t-1', 't-2'),
        request!.headers as Record<string, string>,
      ),
    ).toThrow();

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(
      `posvenda_webhook_deliveries_total{status="succeeded",endpoint="${endpoint.id}"}`,
    );
    expect(metrics.body).toContain('posvenda_webhook_delivery_duration_seconds_count');
  });

  it('fans one event out to each subscribed endpoint of the workspace, and only those', async () => {
    const other = await createWorkspace(t.app);
    const [a, b, c, d] = [path('fan-a'), path('fan-b'), path('fan-c'), path('fan-d')];
    const ea = await createEndpoint(t.app, shop.key, rx.url + a, ['survey.responded']);
    const eb = await createEndpoint(t.app, shop.key, rx.url + b, ['*']);
    const ec = await createEndpoint(t.app, shop.key, rx.url + c, ['alert.triggered']);
    await createEndpoint(t.app, other.key, rx.url + d, ['survey.responded']);
    const eventId = randomUUID();
    await emit(t.deps, shop.id, 'survey.responded', { score: 9 }, { id: eventId });
    await relay();
    await relay(); // a second round finds nothing new: one delivery per event and endpoint
    await waitFor(() => rx.at(a).length === 1 && rx.at(b).length === 1);
    await sleep(300);
    expect(rx.at(a)).toHaveLength(1);
    expect(rx.at(b)).toHaveLength(1);
    expect(rx.at(c)).toHaveLength(0);
    expect(rx.at(d)).toHaveLength(0);
    expect(rx.at(a)[0]!.headers['webhook-id']).toBe(eventId);
    expect(rx.at(b)[0]!.headers['webhook-id']).toBe(eventId);
    expect(await deliveriesOf(t.app, shop.key, ea.id)).toHaveLength(1);
    expect(await deliveriesOf(t.app, shop.key, eb.id)).toHaveLength(1);
    expect(await deliveriesOf(t.app, shop.key, ec.id)).toHaveLength(0);

    // An event naming an endpoint goes to that one only, whatever it subscribed to.
    await emit(t.deps, shop.id, 'survey.responded', { score: 3 }, { endpointId: ec.id });
    await relay();
    await waitFor(() => rx.at(c).length === 1);
    await sleep(200);
    expect(rx.at(a)).toHaveLength(1);
    expect(rx.at(b)).toHaveLength(1);
  });

  it('retries failures on the schedule with the same webhook-id, then succeeds', async () => {
    const p = path('retry');
    rx.answer(p, { status: 500, body: 'boom' }, { status: 503 }, { status: 204 });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['upsell.opportunity']);
    await emit(t.deps, shop.id, 'upsell.opportunity', { plan: 'pro' });
    await relay();
    const [delivery] = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d[0]?.status === 'succeeded',
    );
    const requests = rx.at(p);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // Each retry is signed afresh and still verifies.
    for (const r of requests)
      new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>);
    const gaps = [requests[1]!.at - requests[0]!.at, requests[2]!.at - requests[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(250);
    expect(gaps[0]).toBeLessThan(2000);
    expect(gaps[1]).toBeGreaterThanOrEqual(550);
    expect(gaps[1]).toBeLessThan(3000);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, last_status_code: 204 });
    expect(delivery!.attempt_log.map((a) => a.status_code)).toEqual([500, 503, 204]);
    expect(delivery!.attempt_log[0]!.response_excerpt).toBe('boom');
  });

  it('fails a delivery after the last attempt, and a manual retry makes one more', async () => {
    const p = path('exhaust');
    rx.answer(p, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['ticket.sla_breached']);
    await emit(t.deps, shop.id, 'ticket.sla_breached', { ticket_id: 'k-1' });
    await relay();
    const [failed] = await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'failed');
    expect(failed).toMatchObject({ attempts: 3, last_status_code: 500 });
    await sleep(700);
    expect(rx.at(p)).toHaveLength(3);

    const retried = await call(
      t.app,
      'POST',
      `/v1/webhooks/${endpoint.id}/deliveries/${failed!.id}/retry`,
      shop.key,
    );
    expect(retried.statusCode, retried.body).toBe(202);
    const [done] = await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(done).toMatchObject({ id: failed!.id, attempts: 4, last_status_code: 200 });
    expect(new Set(rx.at(p).map((r) => r.headers['webhook-id'])).size).toBe(1);

    const listed = await call(t.app, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?status=failed`, shop.key);
    expect(listed.json().data).toEqual([]);
  });

  it('does not follow redirects: a 3xx is a failure', async () => {
    const p = path('redirect');
    const target = path('redirect-target');
    rx.answer(p, { status: 302, headers: { location: rx.url + target } });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['customer.stage_changed']);
    await emit(t.deps, shop.id, 'customer.stage_changed', { stage: 'active' });
    await relay();
    const [delivery] = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d[0]?.status === 'failed',
    );
    expect(delivery!.attempt_log.map((a) => a.status_code)).toEqual([302, 302, 302]);
    expect(rx.at(target)).toHaveLength(0);
  });

  it('records an answer whose body holds NUL bytes (Postgres text cannot), once', async () => {
    const p = path('nul');
    rx.answer(p, { status: 200, body: 'ok\u0000binary\u0000' });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-nul' } });
    await relay();
    const [delivery] = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d[0]?.status === 'succeeded',
    );
    expect(delivery!.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, response_excerpt: 'ok\ufffdbinary\ufffd' }),
    ]);
    expect(rx.at(p)).toHaveLength(1);
  });

  it('times out a hanging receiver without holding up another endpoint; an in-flight delivery cannot be retried', async () => {
    const slow = path('hang');
    const fast = path('fast');
    rx.answer(slow, 'hang');
    const hanging = await createEndpoint(t.app, shop.key, rx.url + slow, ['task.completed']);
    await createEndpoint(t.app, shop.key, rx.url + fast, ['task.completed']);
    // More deliveries to the hanging endpoint than the worker has slots.
    for (let i = 0; i < 5; i++) await emit(t.deps, shop.id, 'task.completed', { task: { id: `t-${i}` } });
    await relay();
    await waitFor(() => rx.at(slow).length >= 2, 5000);
    const started = Date.now();
    await waitFor(() => rx.at(fast).length === 5, 5000);
    expect(Date.now() - started).toBeLessThan(900);
    // Never more than two at once to the hanging endpoint.
    const overlapping = (at: number) => rx.at(slow).filter((r) => r.at <= at && at < r.at + 950).length;
    expect(Math.max(...rx.at(slow).map((r) => overlapping(r.at)))).toBeLessThanOrEqual(2);

    const [inFlight] = await waitForDeliveries(t.app, shop.key, hanging.id, (d) =>
      d.some((x) => x.status === 'sending'),
    ).then((d) => d.filter((x) => x.status === 'sending'));
    const conflict = await call(
      t.app,
      'POST',
      `/v1/webhooks/${hanging.id}/deliveries/${inFlight!.id}/retry`,
      shop.key,
    );
    expect(conflict.statusCode).toBe(409);
    expect(problemOf(conflict).code).toBe('delivery_in_flight');

    const deliveries = await waitForDeliveries(
      t.app,
      shop.key,
      hanging.id,
      (d) => d.length === 5 && d.every((x) => x.status === 'failed'),
      30_000,
    );
    for (const delivery of deliveries) {
      expect(delivery.attempt_log).toHaveLength(3);
      for (const attempt of delivery.attempt_log) {
        expect(attempt).toMatchObject({ status_code: null, error: 'timed out after 1000 ms' });
        expect(attempt.duration_ms).toBeGreaterThanOrEqual(950);
      }
    }
  });

  it('disables an endpoint that answers 410 Gone and cancels its waiting deliveries', async () => {
    const p = path('gone');
    rx.answer(p, { status: 410 }, { status: 500 });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['alert.triggered']);
    await emit(t.deps, shop.id, 'alert.triggered', { rule: 'nps' });
    await emit(t.deps, shop.id, 'alert.triggered', { rule: 'churn' });
    await relay();
    const deliveries = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d.length === 2 && d.every((x) => x.status === 'failed' || x.status === 'cancelled'),
    );
    expect(deliveries.map((d) => d.status).sort()).toEqual(['cancelled', 'failed']);
    const url = `/v1/webhooks/${endpoint.id}/deliveries`;
    const first = (await call(t.app, 'GET', `${url}?limit=1`, shop.key)).json();
    expect(first.data).toHaveLength(1);
    const second = (await call(t.app, 'GET', `${url}?limit=1&cursor=${first.next_cursor}`, shop.key)).json();
    expect(second).toMatchObject({ next_cursor: null });
    expect([first.data[0].id, second.data[0].id].sort()).toEqual(deliveries.map((d) => d.id).sort());
    const cancelled = (await call(t.app, 'GET', `${url}?status=cancelled`, shop.key)).json().data;
    expect(cancelled.map((d: { status: string }) => d.status)).toEqual(['cancelled']);
    const got = (await call(t.app, 'GET', `/v1/webhooks/${endpoint.id}`, shop.key)).json();
    expect(got).toMatchObject({ enabled: false, disabled_reason: 'gone' });

    const before = rx.at(p).length;
    await emit(t.deps, shop.id, 'alert.triggered', { rule: 'late' });
    await relay();
    await sleep(1000);
    expect(rx.at(p)).toHaveLength(before);
    expect(await deliveriesOf(t.app, shop.key, endpoint.id)).toHaveLength(2);

    const failed = deliveries.find((d) => d.status === 'failed')!;
    const retry = await call(
      t.app,
      'POST',
      `/v1/webhooks/${endpoint.id}/deliveries/${failed.id}/retry`,
      shop.key,
    );
    expect(retry.statusCode).toBe(409);
    expect(problemOf(retry).code).toBe('endpoint_disabled');

    // Turned back on, it gets new events again, and a cancelled delivery can be retried.
    rx.answer(p, { status: 200 });
    const on = await call(t.app, 'PATCH', `/v1/webhooks/${endpoint.id}`, shop.key, { enabled: true });
    expect(on.json()).toMatchObject({ enabled: true, disabled_reason: null });
    const cancelledId = deliveries.find((d) => d.status === 'cancelled')!.id;
    const again = await call(
      t.app,
      'POST',
      `/v1/webhooks/${endpoint.id}/deliveries/${cancelledId}/retry`,
      shop.key,
    );
    expect(again.statusCode, again.body).toBe(202);
    await emit(t.deps, shop.id, 'alert.triggered', { rule: 'back' });
    await relay();
    const after = await waitForDeliveries(
      t.app,
      shop.key,
      endpoint.id,
      (d) => d.length === 3 && d.filter((x) => x.status === 'succeeded').length === 2,
    );
    expect(after.find((d) => d.id === cancelledId)).toMatchObject({ status: 'succeeded' });
  });
});

describe('recovery', () => {
  it('relays a row whose transaction committed after rows with higher seqs were relayed', async () => {
    const shop = await createWorkspace(t.app);
    const p = path('late-commit');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    const cursor = relayCursor();
    const relayed: string[] = [];
    const relayWithCursor = () =>
      relayOutbox({
        db: t.deps.db,
        clock: t.deps.clock,
        maxAttempts: SCHEDULE.length,
        enqueue: async (deliveries) => {
          relayed.push(...deliveries.map((d) => d.id));
        },
        cursor,
      });
    // A transaction takes its seq, and commits only after a later event has been relayed.
    let commitLate: () => void = () => {};
    const late = t.deps.db.transaction().execute(async (trx) => {
      await emitEvent(trx, {
        workspaceId: shop.id,
        type: 'task.created',
        data: { late: true },
        at: new Date(),
      });
      await new Promise<void>((resolve) => {
        commitLate = resolve;
      });
    });
    await sleep(50);
    await emit(t.deps, shop.id, 'task.created', { late: false });
    expect(await relayWithCursor()).toBe(1);
    expect(cursor.from).toBeGreaterThan(0);
    commitLate();
    await late;
    // Looking from the cursor, the late row is behind it; the next look from the start finds it.
    expect(await relayWithCursor()).toBe(0);
    cursor.fullLookAt = 0;
    expect(await relayWithCursor()).toBe(1);
    expect(relayed).toHaveLength(2);
    const deliveries = await deliveriesOf(t.app, shop.key, endpoint.id);
    expect(deliveries).toHaveLength(2);
  });

  it('delivers, once, a delivery whose job was lost between the commit and the queue', async () => {
    const shop = await createWorkspace(t.app);
    const p = path('lost');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-lost' } });
    // A relay that dies right after its commit: the deliveries exist, no job was queued.
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      enqueue: async () => {},
    });
    await sleep(500);
    expect(rx.at(p)).toHaveLength(0);
    expect((await deliveriesOf(t.app, shop.key, endpoint.id))[0]).toMatchObject({ status: 'pending' });

    await worker.runNow('webhook-sweep');
    await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'succeeded');
    await worker.runNow('webhook-sweep');
    await relay();
    await sleep(500);
    expect(rx.at(p)).toHaveLength(1);
  });

  it('takes over a delivery whose worker died mid-attempt once its lease ran out', async () => {
    const shop = await createWorkspace(t.app);
    const p = path('lease');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-lease' } });
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      enqueue: async () => {},
    });
    // As a worker leaves it when killed during its attempt: sending, and a lease still running.
    const lease = (ms: number) =>
      t.deps.db
        .updateTable('webhookDeliveries')
        .set({ status: 'sending', nextAttemptAt: new Date(Date.now() + ms) })
        .where('workspaceId', '=', shop.id)
        .execute();
    await lease(60_000);
    await worker.runNow('webhook-sweep');
    await sleep(300);
    expect(rx.at(p)).toHaveLength(0);
    await lease(-1000);
    await worker.runNow('webhook-sweep');
    await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(rx.at(p)).toHaveLength(1);
  });

  it('does not attempt a delivery before its retry is due when its job runs early', async () => {
    const shop = await createWorkspace(t.app);
    const p = path('early');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-early' } });
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      enqueue: async () => {},
    });
    // As a worker killed between recording a failed attempt and delaying its job leaves it: the
    // retry is due in a minute, and the stalled job is run again at once.
    const due = (ms: number) =>
      t.deps.db
        .updateTable('webhookDeliveries')
        .set({ nextAttemptAt: new Date(Date.now() + ms) })
        .where('workspaceId', '=', shop.id)
        .execute();
    await due(60_000);
    const [pending] = await deliveriesOf(t.app, shop.key, endpoint.id);
    const queue = webhookQueue(t.deps.redis, t.deps.config.queuePrefix);
    await enqueueDeliveries(queue, [{ workspaceId: shop.id, id: pending!.id }]);
    await waitFor(async () => (await queue.getJob(pending!.id))?.isDelayed(), 10_000, 'the job delayed');
    expect(rx.at(p)).toHaveLength(0);
    expect((await deliveriesOf(t.app, shop.key, endpoint.id))[0]).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
    // Once due, it goes (the sweep brings the waiting job forward), once.
    await due(-1000);
    await worker.runNow('webhook-sweep');
    await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(rx.at(p)).toHaveLength(1);
  });

  it('sweeps past a page of overdue deliveries with live jobs to a lost one behind them', async () => {
    const shop = await createWorkspace(t.app);
    const p = path('behind');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-behind' } });
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      enqueue: async () => {},
    });
    const [lost] = await deliveriesOf(t.app, shop.key, endpoint.id);
    await t.deps.db
      .updateTable('webhookDeliveries')
      .set({ nextAttemptAt: new Date(Date.now() - 5_000) })
      .where('workspaceId', '=', shop.id)
      .execute();
    // A page (500) of deliveries more overdue still, whose jobs wait in the queue: a backlog
    // behind a slow endpoint. Stand-ins, removed before the queue runs again.
    const older = new Date(Date.now() - 60_000);
    const ahead = Array.from({ length: 500 }, () => uuidv7(older));
    await t.deps.db
      .insertInto('webhookDeliveries')
      .values(
        ahead.map((id) => ({
          workspaceId: shop.id,
          id,
          endpointId: endpoint.id,
          eventId: randomUUID(),
          eventType: 'task.created',
          status: 'pending',
          attempts: 0,
          maxAttempts: SCHEDULE.length,
          nextAttemptAt: new Date(Date.now() - 10_000),
          createdAt: older,
          updatedAt: older,
        })),
      )
      .execute();
    const queue = webhookQueue(t.deps.redis, t.deps.config.queuePrefix);
    await queue.pause();
    try {
      await enqueueDeliveries(
        queue,
        ahead.map((id) => ({ workspaceId: shop.id, id })),
      );
      await worker.runNow('webhook-sweep');
      expect(await queue.getJob(lost!.id)).toBeTruthy();
    } finally {
      await Promise.all(ahead.map((id) => queue.remove(id)));
      await t.deps.db
        .updateTable('webhookDeliveries')
        .set({ status: 'cancelled', nextAttemptAt: null })
        .where('workspaceId', '=', shop.id)
        .where('id', 'in', ahead)
        .execute();
      await queue.resume();
    }
    await waitFor(
      async () => (await deliveriesOf(t.app, shop.key, endpoint.id))[0]?.status === 'succeeded',
      10_000,
      'the lost delivery',
    );
    expect(rx.at(p)).toHaveLength(1);
  });
});
