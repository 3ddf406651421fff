import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeDeps, createDeps, type Deps } from '../src/deps.js';
import { pruneWebhookHistory, type RetentionContext } from '../src/modules/webhooks/retention.js';
import { webhookMetrics } from '../src/modules/webhooks/webhook-metrics.js';
import { call, createWorkspace, problemOf, type TestApp, testConfig } from './helpers/app.js';
import {
  holdOutboxRow,
  prunedCount,
  type WebhookHistory,
  webhookHistory,
  withTimeout,
} from './helpers/webhook-history.js';
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

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

let h: WebhookHarness;
let t: TestApp;
let worker: TestWorker;
let rx: Receiver;
let shop: { id: string; key: string };
let endpointId: string;
// An event has one delivery per endpoint: a second endpoint for events delivered twice.
let secondEndpointId: string;
let outboxRow: WebhookHistory['outboxRow'];
let delivery: WebhookHistory['delivery'];
let outboxIds: WebhookHistory['outboxIds'];
let deliveryIds: WebhookHistory['deliveryIds'];

beforeAll(async () => {
  h = await startWebhookHarness(
    { retryScheduleMs: [0], jitter: 0, timeoutMs: 1000, retentionBatchSize: 50 },
    // Not the defaults (7 and 30), so the periodic task shows it reads the configuration.
    { WEBHOOK_ALLOW_PRIVATE: 'true', OUTBOX_RETENTION_DAYS: '3', WEBHOOK_DELIVERY_RETENTION_DAYS: '10' },
  );
  ({ t, worker, rx } = h);
  shop = await createWorkspace(t.app);
  endpointId = (await createEndpoint(t.app, shop.key, `${rx.url}/hook`, ['*'])).id;
  secondEndpointId = (await createEndpoint(t.app, shop.key, `${rx.url}/other`, ['alert.triggered'])).id;
  ({ outboxRow, delivery, outboxIds, deliveryIds } = webhookHistory(t.deps.db, shop.id, endpointId));
});
afterAll(async () => h?.close());

// Each test starts from an empty history, so counts are its own.
beforeEach(async () => {
  await t.deps.db.deleteFrom('webhookDeliveries').execute();
  await t.deps.db.deleteFrom('outbox').execute();
});

function context(overrides: Partial<RetentionContext> = {}): RetentionContext {
  return {
    db: t.deps.db,
    clock: t.deps.clock,
    log: pino({ level: 'silent' }),
    pruned: webhookMetrics(t.deps.metrics).pruned,
    outboxRetentionDays: 7,
    deliveryRetentionDays: 30,
    batchSize: 1000,
    maxBatches: 100,
    ...overrides,
  };
}

describe('webhook retention', () => {
  it('deletes old dispatched events and old finished deliveries, and keeps everything still needed', async () => {
    const oldUnreferenced = await outboxRow(daysAgo(9), daysAgo(9));
    const recent = await outboxRow(daysAgo(6), daysAgo(6));
    // Created long ago but never relayed (e.g. the relay was down): not dispatched, so kept.
    const undispatched = await outboxRow(daysAgo(40), null);
    // Old, but a delivery of it is still retrying: the attempt reads its payload from here.
    const withPending = await outboxRow(daysAgo(9), daysAgo(9));
    const pending = await delivery(withPending, 'pending', null);
    const withSending = await outboxRow(daysAgo(9), daysAgo(9));
    const sending = await delivery(withSending, 'sending', null);
    // Old, with a delivery finished inside the delivery retention: listed and retryable, so kept.
    const withRecentLog = await outboxRow(daysAgo(20), daysAgo(20));
    const recentLog = await delivery(withRecentLog, 'failed', daysAgo(20));
    // Every delivery of it is past the delivery retention: they go, and then so does it.
    const withOldLogs = await outboxRow(daysAgo(40), daysAgo(40));
    const oldSucceeded = await delivery(withOldLogs, 'succeeded', daysAgo(31));
    const oldCancelled = await delivery(withOldLogs, 'cancelled', daysAgo(35), secondEndpointId);
    // One old delivery gone, one recent one left: the event stays for the recent one.
    const mixed = await outboxRow(daysAgo(40), daysAgo(40));
    const mixedOld = await delivery(mixed, 'failed', daysAgo(32));
    const mixedRecent = await delivery(mixed, 'succeeded', daysAgo(2), secondEndpointId);

    const round = await pruneWebhookHistory(context());

    expect(round).toEqual({ deliveries: 3, outbox: 2, secrets: 0 });
    expect(await outboxIds()).toEqual(
      new Set([recent, undispatched, withPending, withSending, withRecentLog, mixed]),
    );
    expect(await deliveryIds()).toEqual(new Set([pending, sending, recentLog, mixedRecent]));
    expect(await outboxIds()).not.toContain(oldUnreferenced);
    expect(await outboxIds()).not.toContain(withOldLogs);
    // The attempts of pruned deliveries went with them; the others' stayed.
    const attempts = await t.deps.db.selectFrom('webhookDeliveryAttempts').select('deliveryId').execute();
    expect(new Set(attempts.map((a) => a.deliveryId))).toEqual(
      new Set([pending, sending, recentLog, mixedRecent]),
    );
    expect(attempts.map((a) => a.deliveryId)).not.toContain(oldSucceeded);
    expect(attempts.map((a) => a.deliveryId)).not.toContain(oldCancelled);
    expect(attempts.map((a) => a.deliveryId)).not.toContain(mixedOld);

    // A second round finds nothing more to do.
    expect(await pruneWebhookHistory(context())).toEqual({ deliveries: 0, outbox: 0, secrets: 0 });
  });

  it('works in bounded batches: a round stops after its batches, the next one goes on', async () => {
    for (let i = 0; i < 25; i++) await outboxRow(daysAgo(10), daysAgo(10 - i / 100));
    // Looked at but kept (a pending delivery) in between: the walk goes past them.
    for (let i = 0; i < 5; i++) await delivery(await outboxRow(daysAgo(11), daysAgo(9.5)), 'pending', null);
    // Events relayed together, whose deliveries finished one after the other (oldest first).
    const relayed = daysAgo(50);
    for (let i = 0; i < 12; i++) {
      await delivery(await outboxRow(relayed, relayed), 'failed', daysAgo(40 + (12 - i) / 100));
    }

    // Two batches of 4 deliveries (the 8 oldest), then two batches of 4 events looked at: the
    // 8 whose deliveries just went.
    const first = await pruneWebhookHistory(context({ batchSize: 4, maxBatches: 2 }));
    expect(first).toEqual({ deliveries: 8, outbox: 8, secrets: 0 });
    // The last 4 deliveries, then their 4 events and the 4 oldest of the 25.
    const second = await pruneWebhookHistory(context({ batchSize: 4, maxBatches: 2 }));
    expect(second).toEqual({ deliveries: 4, outbox: 8, secrets: 0 });

    // Enough rounds clear everything eligible, and nothing else.
    let total = first.outbox + second.outbox;
    for (let round = 0; round < 20; round++) {
      const next = await pruneWebhookHistory(context({ batchSize: 4, maxBatches: 2 }));
      total += next.outbox;
      if (next.outbox === 0 && next.deliveries === 0) break;
    }
    expect(total).toBe(25 + 12);
    expect((await outboxIds()).size).toBe(5);
    expect((await deliveryIds()).size).toBe(5);
  });

  it('skips rows another pruner holds instead of waiting for them', async () => {
    const held = await outboxRow(daysAgo(9), daysAgo(9));
    await outboxRow(daysAgo(9), daysAgo(9));
    const release = await holdOutboxRow(t.deps.config.databaseUrl, held);
    try {
      const round = await withTimeout(pruneWebhookHistory(context()), 5000);
      expect(round.outbox).toBe(1);
      expect(await outboxIds()).toEqual(new Set([held]));
    } finally {
      await release();
    }
    expect((await pruneWebhookHistory(context())).outbox).toBe(1);
    expect(await outboxIds()).toEqual(new Set());
  });

  it('runs safely in two workers at once: each row is deleted once, nothing else is', async () => {
    const keep = new Set<string>();
    for (let i = 0; i < 10; i++) keep.add(await outboxRow(daysAgo(1), daysAgo(1)));
    for (let i = 0; i < 5; i++) keep.add(await outboxRow(daysAgo(30), null));
    await t.deps.db
      .insertInto('outbox')
      .values(
        Array.from({ length: 600 }, (_, i) => ({
          workspaceId: shop.id,
          id: randomUUID(),
          type: 'task.created',
          data: '{}',
          createdAt: daysAgo(10),
          dispatchedAt: new Date(daysAgo(10).getTime() + i),
        })),
      )
      .execute();

    // A second worker process: its own connection pool on the same database.
    const other: Deps = createDeps(testConfig(), { log: pino({ level: 'silent' }) });
    try {
      const [a, b] = await Promise.all([
        pruneWebhookHistory(context({ batchSize: 50 })),
        pruneWebhookHistory(context({ db: other.db, batchSize: 50 })),
      ]);
      expect(a.outbox + b.outbox).toBe(600);
    } finally {
      await closeDeps(other);
    }
    expect(await outboxIds()).toEqual(keep);
  });

  it("is the worker's periodic task, with the retention days of the configuration", async () => {
    await outboxRow(daysAgo(3.1), daysAgo(3.1));
    const young = await outboxRow(daysAgo(2.9), daysAgo(2.9));
    const withLogs = await outboxRow(daysAgo(20), daysAgo(20));
    await delivery(withLogs, 'failed', daysAgo(10.1));
    const kept = await delivery(withLogs, 'failed', daysAgo(9.9), secondEndpointId);
    const before = {
      delivery: await prunedCount(t.app, 'delivery'),
      outbox: await prunedCount(t.app, 'outbox_event'),
    };
    await worker.runNow('webhook-retention');
    expect(await outboxIds()).toEqual(new Set([young, withLogs]));
    expect(await deliveryIds()).toEqual(new Set([kept]));
    // Counted on /metrics.
    expect((await prunedCount(t.app, 'delivery')) - before.delivery).toBe(1);
    expect((await prunedCount(t.app, 'outbox_event')) - before.outbox).toBe(1);
  });

  it('keeps a delivered event retryable for as long as its delivery is listed, then removes both', async () => {
    const eventId = randomUUID();
    await emit(t.deps, shop.id, 'task.created', { task: { id: 'retained' } }, { id: eventId });
    await worker.runNow('outbox-relay');
    const [first] = await waitForDeliveries(t.app, shop.key, endpointId, (d) => d[0]?.status === 'succeeded');
    const firstBody = rx.at('/hook').find((r) => r.headers['webhook-id'] === eventId)?.body;
    expect(firstBody).toContain('"retained"');

    // The event is past the outbox retention (3 days); its delivery is inside its own (10).
    await t.deps.db
      .updateTable('outbox')
      .set({ createdAt: daysAgo(5), dispatchedAt: daysAgo(5) })
      .where('id', '=', eventId)
      .execute();
    await t.deps.db
      .updateTable('webhookDeliveries')
      .set({ completedAt: daysAgo(5) })
      .where('id', '=', first!.id)
      .execute();
    await worker.runNow('webhook-retention');
    expect(await outboxIds()).toEqual(new Set([eventId]));

    // A manual retry still sends the same event.
    const retry = await call(
      t.app,
      'POST',
      `/v1/webhooks/${endpointId}/deliveries/${first!.id}/retry`,
      shop.key,
    );
    expect(retry.statusCode, retry.body).toBe(202);
    await waitFor(() => rx.at('/hook').filter((r) => r.headers['webhook-id'] === eventId).length === 2);
    const again = rx.at('/hook').filter((r) => r.headers['webhook-id'] === eventId)[1]!;
    // The same event (its timestamp is the event's, which the test moved back).
    expect(JSON.parse(again.body)).toMatchObject({
      type: 'task.created',
      data: JSON.parse(firstBody!).data,
    });
    await waitForDeliveries(
      t.app,
      shop.key,
      endpointId,
      (d) => d[0]?.attempts === 2 && d[0].status === 'succeeded',
    );

    // Past the delivery retention: the delivery, its attempts and then the event go.
    await t.deps.db
      .updateTable('webhookDeliveries')
      .set({ completedAt: daysAgo(11) })
      .where('id', '=', first!.id)
      .execute();
    await worker.runNow('webhook-retention');
    expect(await deliveriesOf(t.app, shop.key, endpointId)).toEqual([]);
    expect(await outboxIds()).toEqual(new Set());
    const gone = await call(
      t.app,
      'POST',
      `/v1/webhooks/${endpointId}/deliveries/${first!.id}/retry`,
      shop.key,
    );
    expect(gone.statusCode).toBe(404);
    expect(problemOf(gone).code).toBe('not_found');
  });
});
