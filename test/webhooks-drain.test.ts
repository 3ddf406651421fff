import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDelivery } from '../src/modules/webhooks/deliveries.repository.js';
import { deliverWebhook } from '../src/modules/webhooks/delivery.service.js';
import {
  BACKLOG_JOB_DELAY_MS,
  type QueuedDelivery,
  relayOutbox,
} from '../src/modules/webhooks/outbox-relay.js';
import {
  deliveryContext,
  dropDeliveryJob,
  enqueueDeliveries,
  webhookQueue,
} from '../src/modules/webhooks/webhooks.jobs.js';
import { createWorkspace, type TestApp } from './helpers/app.js';
import type { Receiver } from './helpers/webhook-receiver.js';
import {
  createEndpoint,
  deliveriesOf,
  emit,
  startWebhookHarness,
  type WebhookHarness,
} from './helpers/webhooks.js';

// The harness's worker consumes nothing here: deliveries are relayed without queueing jobs and
// one attempt is made by calling the service, as a job would.
const SCHEDULE = [0, 60_000];
const options = { retryScheduleMs: SCHEDULE, timeoutMs: 1000, jitter: 0, perEndpointConcurrency: 1 };

let t: TestApp;
let rx: Receiver;
let h: WebhookHarness;

beforeAll(async () => {
  h = await startWebhookHarness(
    { ...options, relayIntervalMs: 3_600_000, sweepIntervalMs: 3_600_000 },
    {
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
  );
  ({ t, rx } = h);
});
afterAll(async () => h?.close());

/** Relays the outbox as a relay that died before queueing would: deliveries, no jobs. */
async function relayWithoutJobs(): Promise<void> {
  await relayOutbox({
    db: t.deps.db,
    clock: t.deps.clock,
    maxAttempts: SCHEDULE.length,
    enqueue: async () => {},
  });
}

async function endpointWithBacklog(path: string, events: number) {
  const shop = await createWorkspace(t.app);
  const endpoint = await createEndpoint(t.app, shop.key, rx.url + path, ['task.created']);
  for (let i = 0; i < events; i++) await emit(t.deps, shop.id, 'task.created', { task: { id: `t-${i}` } });
  await relayWithoutJobs();
  const deliveries = await deliveriesOf(t.app, shop.key, endpoint.id);
  expect(deliveries).toHaveLength(events);
  // Oldest first: the one whose job runs.
  return { shop, endpoint, first: deliveries.at(-1)!, deliveries };
}

describe('an attempt that succeeds', () => {
  it('hands its slot to the endpoint’s next due deliveries until none is left', async () => {
    const { shop, endpoint, first } = await endpointWithBacklog('/drain-ok', 6);
    const outcome = await deliverWebhook(deliveryContext(t.deps, options), shop.id, first.id);
    expect(outcome).toEqual({ kind: 'done' });
    expect(rx.at('/drain-ok')).toHaveLength(6);
    const after = await deliveriesOf(t.app, shop.key, endpoint.id);
    expect(after.map((d) => [d.status, d.attempts])).toEqual(Array(6).fill(['succeeded', 1]));
    // Each event once.
    const sent = rx.at('/drain-ok').map((r) => r.headers['webhook-id']);
    expect(new Set(sent).size).toBe(6);
    expect([...sent].sort()).toEqual(after.map((d) => d.event_id).sort());
  });

  it('drops the waiting jobs of the deliveries it takes from the backlog, which would only find them done', async () => {
    const { shop, deliveries, first } = await endpointWithBacklog('/drain-jobs', 4);
    const queue = webhookQueue(t.deps.redis, t.deps.config.queuePrefix);
    try {
      await enqueueDeliveries(
        queue,
        deliveries.map((d) => ({ workspaceId: shop.id, id: d.id, delayMs: 60_000 })),
      );
      const ctx = { ...deliveryContext(t.deps, options), unschedule: dropDeliveryJob(queue) };
      expect(await deliverWebhook(ctx, shop.id, first.id)).toEqual({ kind: 'done' });
      expect(rx.at('/drain-jobs')).toHaveLength(4);
      // The job that made the first attempt is its caller's to finish; the others are gone.
      const left = await Promise.all(deliveries.map(async (d) => (await queue.getJob(d.id))?.id));
      expect(left).toEqual(deliveries.map((d) => (d.id === first.id ? d.id : undefined)));
    } finally {
      for (const d of deliveries) await queue.remove(d.id);
    }
  });

  it('does not take deliveries of another endpoint, nor a delivery whose retry is not due', async () => {
    const { shop, endpoint, first } = await endpointWithBacklog('/drain-own', 2);
    const other = await createEndpoint(t.app, shop.key, `${rx.url}/drain-other`, ['task.created']);
    // The one emitted after the second endpoint exists goes to both.
    await emit(t.deps, shop.id, 'task.created', { task: { id: 't-both' } });
    await relayWithoutJobs();
    await t.deps.db
      .updateTable('webhookDeliveries')
      .set({ nextAttemptAt: new Date(Date.now() + 60_000) })
      .where('workspaceId', '=', shop.id)
      .where('endpointId', '=', endpoint.id)
      .where('id', '!=', first.id)
      .where('status', '=', 'pending')
      .where('attempts', '=', 0)
      .where('eventId', '=', (await deliveriesOf(t.app, shop.key, endpoint.id))[0]!.event_id)
      .execute();
    await deliverWebhook(deliveryContext(t.deps, options), shop.id, first.id);
    // The first, then the second (due); the third (delayed) waits, and the other endpoint is untouched.
    expect(rx.at('/drain-own')).toHaveLength(2);
    expect(rx.at('/drain-other')).toHaveLength(0);
    const mine = await deliveriesOf(t.app, shop.key, endpoint.id);
    expect(mine.map((d) => d.status)).toEqual(['pending', 'succeeded', 'succeeded']);
    expect((await deliveriesOf(t.app, shop.key, other.id)).map((d) => d.status)).toEqual(['pending']);
  });
});

describe('a claim', () => {
  it('says whether other due deliveries of the endpoint wait, so that only then a worker keeps its slot', async () => {
    const claim = async (shopId: string, id: string) => {
      const now = new Date();
      const claimed = await claimDelivery(t.deps.db, shopId, id, now, new Date(now.getTime() + 60_000), 5);
      if (!claimed || claimed === 'busy' || 'notBefore' in claimed) throw new Error('not claimed');
      return claimed;
    };
    const alone = await endpointWithBacklog('/claim-alone', 1);
    expect((await claim(alone.shop.id, alone.first.id)).backlog).toBe(false);
    const queue = await endpointWithBacklog('/claim-queue', 3);
    expect((await claim(queue.shop.id, queue.first.id)).backlog).toBe(true);
    // The last one left: nothing waits behind it (the first is in flight, not waiting).
    const [last, middle] = queue.deliveries;
    expect((await claim(queue.shop.id, middle!.id)).backlog).toBe(true);
    expect((await claim(queue.shop.id, last!.id)).backlog).toBe(false);
  });

  it('answers busy at the cap, notBefore for a retry not due, nothing for one in flight or done, and takes back a lapsed lease', async () => {
    const { shop, deliveries } = await endpointWithBacklog('/claim-states', 4);
    const [d4, d3, d2, d1] = deliveries;
    const now = new Date();
    const lease = new Date(now.getTime() + 60_000);
    const claim = (id: string, at = now, cap = 2) => claimDelivery(t.deps.db, shop.id, id, at, lease, cap);
    const set = (id: string, change: { status: string; nextAttemptAt: Date | null }) =>
      t.deps.db
        .updateTable('webhookDeliveries')
        .set(change)
        .where('workspaceId', '=', shop.id)
        .where('id', '=', id)
        .execute();

    expect(await claim(d1!.id)).toMatchObject({ id: d1!.id });
    // Taken, its lease running: nothing for another job to do.
    expect(await claim(d1!.id)).toBeUndefined();
    expect(await claim(d2!.id)).toMatchObject({ id: d2!.id });
    // Two in flight, cap 2: the endpoint is busy; with room it is taken.
    expect(await claim(d3!.id)).toBe('busy');
    expect(await claim(d3!.id, now, 3)).toMatchObject({ id: d3!.id });
    // A retry that is not due yet.
    const later = new Date(now.getTime() + 30_000);
    await set(d4!.id, { status: 'pending', nextAttemptAt: later });
    expect(await claim(d4!.id, now, 10)).toEqual({ notBefore: later });
    // Done: nothing.
    await set(d4!.id, { status: 'succeeded', nextAttemptAt: null });
    expect(await claim(d4!.id, now, 10)).toBeUndefined();
    // A lease that ran out (its worker died) is taken again once it has lapsed.
    const lapsed = new Date(lease.getTime() + 1);
    expect(await claim(d1!.id, lapsed, 10)).toMatchObject({ id: d1!.id });
    const stored = await t.deps.db
      .selectFrom('webhookDeliveries')
      .select(['status', 'nextAttemptAt'])
      .where('workspaceId', '=', shop.id)
      .where('id', '=', d1!.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'sending', nextAttemptAt: lease });
  });
});

describe('an attempt that fails', () => {
  it('leaves the endpoint’s other deliveries to their own jobs', async () => {
    rx.answer('/drain-fail', { status: 503 });
    const { shop, endpoint, first } = await endpointWithBacklog('/drain-fail', 4);
    const outcome = await deliverWebhook(deliveryContext(t.deps, options), shop.id, first.id);
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect(rx.at('/drain-fail')).toHaveLength(1);
    const after = await deliveriesOf(t.app, shop.key, endpoint.id);
    expect(after.map((d) => d.attempts).sort()).toEqual([0, 0, 0, 1]);
  });

  it('ends a drain at the first failure, and queues that delivery’s retry', async () => {
    rx.answer('/drain-stop', { status: 200 }, { status: 200 }, { status: 500 });
    const { shop, endpoint, first } = await endpointWithBacklog('/drain-stop', 5);
    const scheduled: { id: string; delayMs: number }[] = [];
    const ctx = {
      ...deliveryContext(t.deps, options),
      schedule: async (d: { id: string; delayMs: number }) => void scheduled.push(d),
    };
    await deliverWebhook(ctx, shop.id, first.id);
    const failed = (await deliveriesOf(t.app, shop.key, endpoint.id)).find(
      (d) => d.status === 'pending' && d.attempts === 1,
    );
    expect(scheduled).toEqual([{ workspaceId: shop.id, id: failed!.id, delayMs: SCHEDULE[1] }]);
    expect(rx.at('/drain-stop')).toHaveLength(3);
    const after = await deliveriesOf(t.app, shop.key, endpoint.id);
    const tally = after.map((d) => `${d.status}:${d.attempts}`).sort();
    expect(tally).toEqual(['pending:0', 'pending:0', 'pending:1', 'succeeded:1', 'succeeded:1']);
  });
});

describe('the relay', () => {
  it('starts at once the jobs of an endpoint’s first deliveries up to the cap, and delays the rest', async () => {
    const shop = await createWorkspace(t.app);
    const busy = await createEndpoint(t.app, shop.key, `${rx.url}/stagger-a`, ['task.created']);
    const quiet = await createEndpoint(t.app, shop.key, `${rx.url}/stagger-b`, ['task.completed']);
    for (let i = 0; i < 4; i++) await emit(t.deps, shop.id, 'task.created', { task: { id: `s-${i}` } });
    await emit(t.deps, shop.id, 'task.completed', { task: { id: 's-done' } });
    const queued: QueuedDelivery[] = [];
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      immediatePerEndpoint: 2,
      enqueue: async (deliveries) => void queued.push(...deliveries),
    });
    const ofBusy = new Set((await deliveriesOf(t.app, shop.key, busy.id)).map((d) => d.id));
    const ofQuiet = new Set((await deliveriesOf(t.app, shop.key, quiet.id)).map((d) => d.id));
    expect(queued).toHaveLength(5);
    const delays = (ids: Set<string>) => queued.filter((q) => ids.has(q.id)).map((q) => q.delayMs ?? 0);
    expect(delays(ofBusy).sort()).toEqual([0, 0, BACKLOG_JOB_DELAY_MS, BACKLOG_JOB_DELAY_MS]);
    expect(delays(ofQuiet)).toEqual([0]);
  });
});
