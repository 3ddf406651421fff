import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { touchpointEventData } from '../src/modules/outbox/outbox.js';
import { type ClaimedDelivery, claimDelivery } from '../src/modules/webhooks/deliveries.repository.js';
import { recordSuccesses } from '../src/modules/webhooks/delivery-attempt.js';
import { relayOutbox } from '../src/modules/webhooks/outbox-relay.js';
import { call, createWorkspace, type TestApp } from './helpers/app.js';
import type { TouchpointItem } from './helpers/touchpoints.js';
import { type Receiver, waitFor } from './helpers/webhook-receiver.js';
import {
  createEndpoint,
  emit,
  startWebhookHarness,
  type WebhookHarness,
  waitForDeliveries,
} from './helpers/webhooks.js';
import type { TestWorker } from './helpers/worker.js';

const SCHEDULE = [0, 200];
const options = { retryScheduleMs: SCHEDULE, timeoutMs: 1000, jitter: 0, sweepGraceMs: 0 };

let t: TestApp;
let worker: TestWorker;
let rx: Receiver;
let h: WebhookHarness;
let n = 0;
const uid = (prefix: string) => `${prefix}-${++n}`;

beforeAll(async () => {
  h = await startWebhookHarness(options, { WEBHOOK_ALLOW_PRIVATE: 'true' });
  ({ t, worker, rx } = h);
});
afterAll(async () => h?.close());

const relay = () => worker.runNow('outbox-relay');
const CONTENT = { payload: { action: 'sync', order_id: '981' } };

/**
 * A webhook touchpoint as the dispatch worker leaves it: `sending`, with its rendered content,
 * and a `touchpoint.due` outbox event whose id is the touchpoint id.
 */
async function dueWebhookTouchpoint(
  workspace: { id: string; key: string },
  endpointId?: string,
): Promise<string> {
  const customerId = uid('c');
  const response = await call(t.app, 'POST', '/v1/events', workspace.key, {
    id: uid('e'),
    type: 'delivery',
    customer: { id: customerId, name: 'Ana Souza', email: 'ana@example.com', segment: 'smb' },
    properties: { order_id: uid('o') },
  });
  expect(response.statusCode, response.body).toBe(202);
  const items: TouchpointItem[] = (
    await call(t.app, 'GET', `/v1/touchpoints?customer_id=${customerId}`, workspace.key)
  ).json().data;
  const id = items[0]!.id;
  const row = await t.deps.db
    .updateTable('touchpoints')
    .set({
      channel: 'webhook',
      status: 'sending',
      content: JSON.stringify(CONTENT),
      endpointId: endpointId ?? null,
    })
    .where('workspaceId', '=', workspace.id)
    .where('id', '=', id)
    .returning(['id', 'playbookKey', 'stepKey', 'channel', 'dueAt', 'status'])
    .executeTakeFirstOrThrow();
  const data = touchpointEventData(
    {
      ...row,
      customerExternalId: customerId,
      customerName: 'Ana Souza',
      customerEmail: 'ana@example.com',
      customerPhone: null,
      customerSegment: 'smb',
    },
    CONTENT,
  );
  await emit(t.deps, workspace.id, 'touchpoint.due', data, { id, endpointId });
  return id;
}

async function touchpoint(workspaceId: string, id: string) {
  return t.deps.db
    .selectFrom('touchpoints')
    .selectAll()
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function deliveryOf(workspaceId: string, endpointId: string) {
  return t.deps.db
    .selectFrom('webhookDeliveries')
    .selectAll()
    .where('workspaceId', '=', workspaceId)
    .where('endpointId', '=', endpointId)
    .executeTakeFirstOrThrow();
}

async function outboxOf(workspaceId: string, type: string) {
  const rows = await t.deps.db
    .selectFrom('outbox')
    .select(['id', 'type', 'data'])
    .where('workspaceId', '=', workspaceId)
    .where('type', '=', type)
    .execute();
  return rows as { id: string; type: string; data: Record<string, unknown> }[];
}

async function settled(workspaceId: string, id: string) {
  return waitFor(async () => {
    const row = await touchpoint(workspaceId, id);
    return row.status !== 'sending' ? row : undefined;
  });
}

describe('webhook touchpoints', () => {
  it('are sent when a delivery succeeds: sent_at, attempts, touchpoint.sent to its subscribers', async () => {
    const shop = await createWorkspace(t.app);
    const due = uid('/due');
    const sent = uid('/sent');
    rx.answer(due, { status: 500 }, { status: 200 });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + due, ['touchpoint.due']);
    await createEndpoint(t.app, shop.key, rx.url + sent, ['touchpoint.sent']);
    const id = await dueWebhookTouchpoint(shop);
    await relay();

    const row = await settled(shop.id, id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, statusReason: null });
    expect(row.sentAt).toBeInstanceOf(Date);
    expect(row.deliveredAt).toBeInstanceOf(Date);
    const attempts = await t.deps.db
      .selectFrom('touchpointAttempts')
      .select(['attempt', 'status', 'error'])
      .where('touchpointId', '=', id)
      .orderBy('attempt')
      .execute();
    expect(attempts).toEqual([
      { attempt: 1, status: 'failed', error: `webhook ${endpoint.id}: HTTP 500` },
      { attempt: 2, status: 'succeeded', error: null },
    ]);

    const [request] = rx.at(due);
    const body = new Webhook(endpoint.secret).verify(
      request!.body,
      request!.headers as Record<string, string>,
    );
    expect(body).toMatchObject({
      type: 'touchpoint.due',
      data: {
        touchpoint: { id, channel: 'webhook', status: 'sending' },
        customer: { name: 'Ana Souza', email: 'ana@example.com', segment: 'smb' },
        content: CONTENT,
      },
    });
    expect(request!.headers['webhook-id']).toBe(id);

    const events = await outboxOf(shop.id, 'touchpoint.sent');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ touchpoint: { id, status: 'sent' }, content: CONTENT });
    await relay();
    const [notice] = await waitFor(() => (rx.at(sent).length > 0 ? rx.at(sent) : undefined));
    expect(JSON.parse(notice!.body)).toMatchObject({ type: 'touchpoint.sent', data: { touchpoint: { id } } });
  });

  it('fail with delivery_failed once every delivery has failed, and emit touchpoint.failed', async () => {
    const shop = await createWorkspace(t.app);
    const a = uid('/fail-a');
    const b = uid('/fail-b');
    rx.answer(a, { status: 500 });
    rx.answer(b, { status: 400 });
    const ea = await createEndpoint(t.app, shop.key, rx.url + a, ['touchpoint.due']);
    await createEndpoint(t.app, shop.key, rx.url + b, ['*']);
    const id = await dueWebhookTouchpoint(shop);
    await relay();
    await waitForDeliveries(t.app, shop.key, ea.id, (d) => d[0]?.status === 'failed');
    const row = await settled(shop.id, id);
    expect(row).toMatchObject({ status: 'failed', statusReason: 'delivery_failed', attempts: 4 });
    expect(rx.at(a)).toHaveLength(2);
    expect(rx.at(b)).toHaveLength(2);
    const events = await outboxOf(shop.id, 'touchpoint.failed');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({
      reason: 'delivery_failed',
      touchpoint: { id, status: 'failed' },
    });
  });

  it('are sent when one endpoint succeeds even though another fails', async () => {
    const shop = await createWorkspace(t.app);
    const ok = uid('/mixed-ok');
    const ko = uid('/mixed-ko');
    rx.answer(ko, { status: 500 });
    await createEndpoint(t.app, shop.key, rx.url + ok, ['touchpoint.due']);
    const failing = await createEndpoint(t.app, shop.key, rx.url + ko, ['touchpoint.due']);
    const id = await dueWebhookTouchpoint(shop);
    await relay();
    await waitForDeliveries(t.app, shop.key, failing.id, (d) => d[0]?.status === 'failed');
    expect(await touchpoint(shop.id, id)).toMatchObject({ status: 'sent' });
    expect(await outboxOf(shop.id, 'touchpoint.failed')).toHaveLength(0);
  });

  it('fail with no_endpoint when nobody subscribed to touchpoint.due', async () => {
    const shop = await createWorkspace(t.app);
    await createEndpoint(t.app, shop.key, `${rx.url}${uid('/unrelated')}`, ['touchpoint.sent']);
    const id = await dueWebhookTouchpoint(shop);
    await relay();
    expect(await touchpoint(shop.id, id)).toMatchObject({ status: 'failed', statusReason: 'no_endpoint' });
    const events = await outboxOf(shop.id, 'touchpoint.failed');
    expect(events[0]!.data).toMatchObject({ reason: 'no_endpoint', touchpoint: { id } });
  });

  it("go to the step's endpoint only, and fail with endpoint_disabled when it is disabled or deleted", async () => {
    const shop = await createWorkspace(t.app);
    const named = uid('/named');
    const bystander = uid('/bystander');
    const target = await createEndpoint(t.app, shop.key, rx.url + named, ['alert.triggered']);
    await createEndpoint(t.app, shop.key, rx.url + bystander, ['touchpoint.due']);
    const id = await dueWebhookTouchpoint(shop, target.id);
    await relay();
    expect(await settled(shop.id, id)).toMatchObject({ status: 'sent' });
    expect(rx.at(named)).toHaveLength(1);
    expect(rx.at(bystander)).toHaveLength(0);

    // Disabled by a 410 before the next one is relayed.
    rx.answer(named, { status: 410 });
    await emit(t.deps, shop.id, 'alert.triggered', { rule: 'x' });
    await relay();
    await waitForDeliveries(t.app, shop.key, target.id, (d) => d[0]?.status === 'failed');
    const second = await dueWebhookTouchpoint(shop, target.id);
    await relay();
    expect(await touchpoint(shop.id, second)).toMatchObject({
      status: 'failed',
      statusReason: 'endpoint_disabled',
    });

    // Deleted while its delivery waits (relayed, not yet attempted): the touchpoint fails at once.
    const waiting = uid('/deleted');
    const doomed = await createEndpoint(t.app, shop.key, rx.url + waiting, ['alert.triggered']);
    const third = await dueWebhookTouchpoint(shop, doomed.id);
    await relayOutbox({
      db: t.deps.db,
      clock: t.deps.clock,
      maxAttempts: SCHEDULE.length,
      enqueue: async () => {},
    });
    expect(await deliveryOf(shop.id, doomed.id)).toMatchObject({ status: 'pending' });
    expect((await call(t.app, 'DELETE', `/v1/webhooks/${doomed.id}`, shop.key)).statusCode).toBe(204);
    expect(await deliveryOf(shop.id, doomed.id)).toMatchObject({ status: 'cancelled' });
    expect(await touchpoint(shop.id, third)).toMatchObject({
      status: 'failed',
      statusReason: 'endpoint_disabled',
    });

    // Deleted while its delivery is in flight: the failed attempt ends it (no retry is left
    // waiting, hours away, only to be cancelled), and the touchpoint fails with it.
    const slow = uid('/deleted-in-flight');
    rx.answer(slow, 'hang');
    const busy = await createEndpoint(t.app, shop.key, rx.url + slow, ['alert.triggered']);
    const fourth = await dueWebhookTouchpoint(shop, busy.id);
    await relay();
    await waitFor(() => rx.at(slow).length === 1);
    expect((await call(t.app, 'DELETE', `/v1/webhooks/${busy.id}`, shop.key)).statusCode).toBe(204);
    expect(await touchpoint(shop.id, fourth)).toMatchObject({ status: 'sending' });
    const ended = await waitFor(async () => {
      const row = await deliveryOf(shop.id, busy.id);
      return row.attempts === 1 ? row : undefined;
    });
    expect(ended).toMatchObject({ status: 'cancelled', nextAttemptAt: null });
    expect(await touchpoint(shop.id, fourth)).toMatchObject({
      status: 'failed',
      statusReason: 'endpoint_disabled',
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(rx.at(waiting)).toHaveLength(0);
    expect(rx.at(slow)).toHaveLength(1);
  });
});

describe('successful attempts recorded together', () => {
  it('log each delivery, and settle each touchpoint sent once, with one attempt and one touchpoint.sent', async () => {
    const shop = await createWorkspace(t.app);
    const a = await createEndpoint(t.app, shop.key, rx.url + uid('/a'), ['touchpoint.due']);
    await createEndpoint(t.app, shop.key, rx.url + uid('/b'), ['touchpoint.due']);
    const both = await dueWebhookTouchpoint(shop);
    const onlyA = await dueWebhookTouchpoint(shop, a.id);
    // Deliveries without jobs: the group below is the only thing that records them.
    await relayOutbox({ db: t.deps.db, clock: t.deps.clock, maxAttempts: 2, enqueue: async () => {} });
    const now = t.deps.clock.now();
    const pending = await t.deps.db
      .selectFrom('webhookDeliveries')
      .select('id')
      .where('workspaceId', '=', shop.id)
      .execute();
    expect(pending).toHaveLength(3);
    const claimed = await Promise.all(
      pending.map((d) => claimDelivery(t.deps.db, shop.id, d.id, now, new Date(now.getTime() + 60_000), 10)),
    );
    const record = {
      attempt: 1,
      at: now,
      statusCode: 204,
      durationMs: 3,
      error: null,
      responseExcerpt: null,
    };
    await t.deps.db.transaction().execute((trx) =>
      recordSuccesses(
        trx,
        shop.id,
        claimed.map((delivery) => ({ delivery: delivery as ClaimedDelivery, record })),
      ),
    );

    const deliveries = await t.deps.db
      .selectFrom('webhookDeliveries')
      .select(['status', 'attempts', 'lastStatusCode', 'nextAttemptAt'])
      .where('workspaceId', '=', shop.id)
      .execute();
    expect(deliveries).toEqual(
      Array(3).fill({ status: 'succeeded', attempts: 1, lastStatusCode: 204, nextAttemptAt: null }),
    );
    const logged = await t.deps.db
      .selectFrom('webhookDeliveryAttempts')
      .select('statusCode')
      .where('workspaceId', '=', shop.id)
      .execute();
    expect(logged).toHaveLength(3);
    for (const id of [both, onlyA]) {
      expect(await touchpoint(shop.id, id)).toMatchObject({ status: 'sent', attempts: 1, sentAt: now });
      const attempts = await t.deps.db
        .selectFrom('touchpointAttempts')
        .select(['attempt', 'status'])
        .where('touchpointId', '=', id)
        .execute();
      expect(attempts).toEqual([{ attempt: 1, status: 'succeeded' }]);
    }
    const events = (await outboxOf(shop.id, 'touchpoint.sent')).map(
      (e) => (e.data.touchpoint as { id: string; status: string }).id,
    );
    expect(events.sort()).toEqual([both, onlyA].sort());
  });
});
