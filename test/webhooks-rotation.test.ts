import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { sealSecret } from '../src/modules/webhooks/webhook-secret.js';
import { call, createKey, createWorkspace, problemOf, type TestApp } from './helpers/app.js';
import { type Received, type Receiver, waitFor } from './helpers/webhook-receiver.js';
import {
  createEndpoint,
  emit,
  startWebhookHarness,
  type WebhookHarness,
  waitForDeliveries,
} from './helpers/webhooks.js';
import type { TestWorker } from './helpers/worker.js';

const HOUR = 3_600_000;

/**
 * Real time, shifted by hand: a rotation can be made to have happened hours ago, while the
 * deliveries' `webhook-timestamp` stays within the verifier's 5-minute tolerance of now.
 */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const clock = new ShiftedClock();
let h: WebhookHarness;
let t: TestApp;
let worker: TestWorker;
let rx: Receiver;
let shop: { id: string; key: string };
let n = 0;
const path = (name: string) => `/${name}-${++n}`;

beforeAll(async () => {
  h = await startWebhookHarness(
    { retryScheduleMs: [0, 1500], jitter: 0, timeoutMs: 1000, sweepGraceMs: 0 },
    { WEBHOOK_ALLOW_PRIVATE: 'true' },
    clock,
  );
  ({ t, worker, rx } = h);
  shop = await createWorkspace(t.app);
});
afterAll(async () => h?.close());

/** Rotates as if `hoursAgo` hours ago; returns the answer's body. */
async function rotate(endpointId: string, body?: Record<string, unknown>, hoursAgo = 0) {
  clock.offsetMs = -hoursAgo * HOUR;
  try {
    const response = await call(t.app, 'POST', `/v1/webhooks/${endpointId}/rotate-secret`, shop.key, body);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  } finally {
    clock.offsetMs = 0;
  }
}

/** Emits an event for the endpoint now and returns the request its receiver got. */
async function deliverOne(endpointId: string, p: string): Promise<Received> {
  const eventId = randomUUID();
  await emit(t.deps, shop.id, 'task.created', { task: { id: eventId } }, { id: eventId, endpointId });
  await worker.runNow('outbox-relay');
  return waitFor(() => rx.at(p).find((r) => r.headers['webhook-id'] === eventId), 10_000, 'a delivery');
}

function verifies(secret: string, request: Received): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

async function storedPrevious(endpointId: string): Promise<Buffer | null> {
  const row = await t.deps.db
    .selectFrom('webhookEndpoints')
    .select('previousSecretCiphertext')
    .where('id', '=', endpointId)
    .executeTakeFirstOrThrow();
  return row.previousSecretCiphertext;
}

const signatures = (request: Received) => String(request.headers['webhook-signature']).split(' ');

describe('webhook secret rotation', () => {
  it('returns a new secret once; during the grace period both secrets verify, after it only the new one', async () => {
    const p = path('grace');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);

    // Rotated 23 hours ago with the default 24-hour grace: one hour of it is left.
    const rotated = await rotate(endpoint.id, undefined, 23);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated).toMatchObject({ id: endpoint.id, url: rx.url + p, events: ['task.created'] });
    const until = Date.parse(rotated.previous_secret_expires_at);
    expect(Math.abs(until - (Date.now() + HOUR))).toBeLessThan(60_000);

    const during = await deliverOne(endpoint.id, p);
    expect(signatures(during)).toHaveLength(2);
    expect(signatures(during).every((s) => s.startsWith('v1,'))).toBe(true);
    expect(verifies(rotated.secret, during)).toBe(true);
    expect(verifies(endpoint.secret, during)).toBe(true);
    // Neither secret verifies a body that was changed.
    expect(verifies(rotated.secret, { ...during, body: during.body.replace('task', 'tusk') })).toBe(false);

    // The retention task leaves a secret in its grace period alone.
    await worker.runNow('webhook-retention');
    expect(await storedPrevious(endpoint.id)).not.toBeNull();

    // The grace period ends (its end moved to a second ago): only the new secret signs.
    await t.deps.db
      .updateTable('webhookEndpoints')
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
      .where('id', '=', endpoint.id)
      .execute();
    const after = await deliverOne(endpoint.id, p);
    expect(signatures(after)).toHaveLength(1);
    expect(verifies(rotated.secret, after)).toBe(true);
    expect(verifies(endpoint.secret, after)).toBe(false);
    const shown = await call(t.app, 'GET', `/v1/webhooks/${endpoint.id}`, shop.key);
    expect(shown.json().previous_secret_expires_at).toBeNull();
    // …and then erases the old secret, which signs nothing any more.
    await worker.runNow('webhook-retention');
    expect(await storedPrevious(endpoint.id)).toBeNull();
    expect(verifies(rotated.secret, await deliverOne(endpoint.id, p))).toBe(true);
  });

  it('ends the old secret when the grace period the request chose has passed', async () => {
    const p = path('chosen');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    // A one-hour grace, two hours ago: over. (The default 24 hours would still be running.)
    const rotated = await rotate(endpoint.id, { grace_period: 'PT1H' }, 2);
    expect(Date.parse(rotated.previous_secret_expires_at)).toBeLessThan(Date.now());
    const request = await deliverOne(endpoint.id, p);
    expect(verifies(rotated.secret, request)).toBe(true);
    expect(verifies(endpoint.secret, request)).toBe(false);

    // PT0S: the old secret stops at once (a leaked secret).
    const now = await rotate(endpoint.id, { grace_period: 'PT0S' });
    expect(now.previous_secret_expires_at).toBeNull();
    const next = await deliverOne(endpoint.id, p);
    expect(signatures(next)).toHaveLength(1);
    expect(verifies(now.secret, next)).toBe(true);
    expect(verifies(rotated.secret, next)).toBe(false);
  });

  it('signs retries of a delivery made before the rotation with the new secret', async () => {
    const p = path('retry');
    rx.answer(p, { status: 503 }, { status: 200 });
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    const eventId = randomUUID();
    await emit(t.deps, shop.id, 'task.created', { task: { id: eventId } }, { id: eventId });
    await worker.runNow('outbox-relay');
    const first = await waitFor(() => rx.at(p)[0], 10_000, 'the first attempt');
    expect(verifies(endpoint.secret, first)).toBe(true);

    const rotated = await rotate(endpoint.id, { grace_period: 'PT0S' });
    const second = await waitFor(() => rx.at(p)[1], 10_000, 'the retry');
    expect(second.headers['webhook-id']).toBe(eventId);
    expect(verifies(rotated.secret, second)).toBe(true);
    expect(verifies(endpoint.secret, second)).toBe(false);
  });

  it('keeps only the secret being replaced when rotating again within a grace period', async () => {
    const p = path('twice');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    const first = await rotate(endpoint.id);
    const second = await rotate(endpoint.id);
    expect(new Set([endpoint.secret, first.secret, second.secret]).size).toBe(3);
    const request = await deliverOne(endpoint.id, p);
    expect(verifies(second.secret, request)).toBe(true);
    expect(verifies(first.secret, request)).toBe(true);
    expect(verifies(endpoint.secret, request)).toBe(false);
  });

  it('brings back an endpoint whose secret no longer decrypts (SECRET_KEY changed)', async () => {
    const p = path('rekeyed');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    // As if it had been sealed under an earlier SECRET_KEY.
    const earlierKey = Buffer.from('an-earlier-secret-key-0123456789abcdefgh', 'utf8');
    await t.deps.db
      .updateTable('webhookEndpoints')
      .set({ secretCiphertext: sealSecret(endpoint.secret, earlierKey) })
      .where('id', '=', endpoint.id)
      .execute();
    const eventId = randomUUID();
    await emit(t.deps, shop.id, 'task.created', { x: 1 }, { id: eventId, endpointId: endpoint.id });
    await worker.runNow('outbox-relay');
    const [failed] = await waitForDeliveries(t.app, shop.key, endpoint.id, (d) => d[0]?.status === 'failed');
    expect(failed!.last_error).toContain('cannot be decrypted');
    expect(rx.at(p)).toHaveLength(0);

    // The old secret cannot sign (it does not decrypt): only the new one does, from now on.
    const rotated = await rotate(endpoint.id);
    const request = await deliverOne(endpoint.id, p);
    expect(signatures(request)).toHaveLength(1);
    expect(verifies(rotated.secret, request)).toBe(true);
  });

  it('never shows a secret again, and stores them encrypted', async () => {
    const p = path('hidden');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    const rotated = await rotate(endpoint.id);
    const answers = [
      await call(t.app, 'GET', `/v1/webhooks/${endpoint.id}`, shop.key),
      await call(t.app, 'GET', '/v1/webhooks', shop.key),
      await call(t.app, 'PATCH', `/v1/webhooks/${endpoint.id}`, shop.key, { description: 'x' }),
    ];
    for (const answer of answers) {
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.body).not.toContain('"secret"');
      expect(answer.body).not.toContain(rotated.secret.slice(6));
      expect(answer.body).not.toContain(endpoint.secret.slice(6));
    }
    expect(answers[0]!.json().previous_secret_expires_at).toBe(rotated.previous_secret_expires_at);
    const row = await t.deps.db
      .selectFrom('webhookEndpoints')
      .select(['secretCiphertext', 'previousSecretCiphertext'])
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow();
    const stored = Buffer.concat([row.secretCiphertext, row.previousSecretCiphertext!]).toString('latin1');
    expect(stored).not.toContain(rotated.secret.slice(6));
    expect(stored).not.toContain(endpoint.secret.slice(6));
    expect(stored).not.toContain(Buffer.from(rotated.secret.slice(6), 'base64').toString('latin1'));
  });

  it('erases both secrets of an endpoint when it is deleted, and its log stays', async () => {
    const p = path('deleted');
    const endpoint = await createEndpoint(t.app, shop.key, rx.url + p, ['task.created']);
    await deliverOne(endpoint.id, p);
    await rotate(endpoint.id);
    const secrets = () =>
      t.deps.db
        .selectFrom('webhookEndpoints')
        .select(['secretCiphertext', 'previousSecretCiphertext', 'previousSecretExpiresAt', 'deletedAt'])
        .where('id', '=', endpoint.id)
        .executeTakeFirstOrThrow();
    const before = await secrets();
    expect(before.secretCiphertext.length).toBeGreaterThan(0);
    expect(before.previousSecretCiphertext).not.toBeNull();
    expect((await call(t.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, shop.key)).statusCode).toBe(204);
    const after = await secrets();
    expect(after.deletedAt).not.toBeNull();
    expect(after.secretCiphertext.length).toBe(0);
    expect(after.previousSecretCiphertext).toBeNull();
    expect(after.previousSecretExpiresAt).toBeNull();
    const log = await t.deps.db
      .selectFrom('webhookDeliveries')
      .select('status')
      .where('endpointId', '=', endpoint.id)
      .execute();
    expect(log).toEqual([{ status: 'succeeded' }]);
  });

  it("answers 404 for another workspace's endpoint, and changes nothing there", async () => {
    const other = await createWorkspace(t.app);
    const p = path('theirs');
    const theirs = await createEndpoint(t.app, other.key, rx.url + p, ['task.created']);
    const response = await call(t.app, 'POST', `/v1/webhooks/${theirs.id}/rotate-secret`, shop.key, {});
    expect(response.statusCode).toBe(404);
    expect(problemOf(response).code).toBe('not_found');
    const row = await t.deps.db
      .selectFrom('webhookEndpoints')
      .select(['previousSecretExpiresAt', 'updatedAt', 'createdAt'])
      .where('id', '=', theirs.id)
      .executeTakeFirstOrThrow();
    expect(row.previousSecretExpiresAt).toBeNull();
    expect(row.updatedAt).toEqual(row.createdAt);

    // Their deliveries are still signed with their own secret only.
    const eventId = randomUUID();
    await emit(t.deps, other.id, 'task.created', { x: 1 }, { id: eventId });
    await worker.runNow('outbox-relay');
    const request = await waitFor(() => rx.at(p)[0], 10_000, 'their delivery');
    expect(signatures(request)).toHaveLength(1);
    expect(verifies(theirs.secret, request)).toBe(true);
  });

  it('refuses what it cannot do: unknown or deleted endpoints, bad grace periods, read-only keys', async () => {
    const endpoint = await createEndpoint(t.app, shop.key, `${rx.url}/refused`, ['task.created']);
    const url = `/v1/webhooks/${endpoint.id}/rotate-secret`;

    const unknown = await call(t.app, 'POST', `/v1/webhooks/${randomUUID()}/rotate-secret`, shop.key);
    expect(unknown.statusCode).toBe(404);
    expect(problemOf(unknown).code).toBe('not_found');

    for (const grace_period of ['P8D', 'soon', '-PT1H', 'P1M']) {
      const bad = await call(t.app, 'POST', url, shop.key, { grace_period });
      expect(bad.statusCode, grace_period).toBe(422);
      expect(problemOf(bad).errors).toEqual([{ path: '/body/grace_period', message: expect.any(String) }]);
    }
    const extra = await call(t.app, 'POST', url, shop.key, { secret: 'whsec_mine' });
    expect(extra.statusCode).toBe(400);
    expect(problemOf(extra).code).toBe('validation_failed');

    const reader = await createKey(t.app, shop.key, ['read']);
    const forbidden = await call(t.app, 'POST', url, reader.key);
    expect(forbidden.statusCode).toBe(403);
    expect(problemOf(forbidden).code).toBeTypeOf('string');

    // None of the refusals rotated anything.
    const row = await t.deps.db
      .selectFrom('webhookEndpoints')
      .select('previousSecretExpiresAt')
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow();
    expect(row.previousSecretExpiresAt).toBeNull();

    expect((await call(t.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, shop.key)).statusCode).toBe(204);
    const deleted = await call(t.app, 'POST', url, shop.key);
    expect(deleted.statusCode).toBe(404);
    expect(problemOf(deleted).code).toBe('not_found');
  });
});
