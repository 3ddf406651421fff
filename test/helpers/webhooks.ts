import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Clock } from '../../src/clock.js';
import type { Deps } from '../../src/deps.js';
import { emitEvent, type OutgoingEventType } from '../../src/modules/outbox/outbox.js';
import {
  type WebhookWorkerOptions,
  webhookConsumer,
  webhookTasks,
} from '../../src/modules/webhooks/webhooks.jobs.js';
import { call, startTestApp, type TestApp } from './app.js';
import { type Receiver, startReceiver, waitFor } from './webhook-receiver.js';
import { startTestWorker, type TestWorker } from './worker.js';

export interface DeliveryView {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  attempt_log: {
    attempt: number;
    at: string;
    status_code: number | null;
    duration_ms: number;
    error: string | null;
    response_excerpt: string | null;
  }[];
}

/** Creates an endpoint through the API; returns its id and secret. */
export async function createEndpoint(
  app: FastifyInstance,
  key: string,
  url: string,
  events: string[],
): Promise<{ id: string; secret: string }> {
  const response = await call(app, 'POST', '/v1/webhooks', key, { url, events });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

export async function deliveriesOf(
  app: FastifyInstance,
  key: string,
  endpointId: string,
): Promise<DeliveryView[]> {
  const response = await call(app, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=500`, key);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().data;
}

/** Waits until the endpoint's deliveries satisfy `done`; returns them. */
export function waitForDeliveries(
  app: FastifyInstance,
  key: string,
  endpointId: string,
  done: (deliveries: DeliveryView[]) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryView[]> {
  return waitFor(
    async () => {
      const list = await deliveriesOf(app, key, endpointId);
      return done(list) ? list : undefined;
    },
    timeoutMs,
    `deliveries of ${endpointId}`,
  );
}

/** Writes an outgoing event into the outbox, as the code that decides it would. */
export async function emit(
  deps: Deps,
  workspaceId: string,
  type: OutgoingEventType,
  data: Record<string, unknown>,
  options: { id?: string; endpointId?: string } = {},
): Promise<void> {
  await emitEvent(deps.db, { workspaceId, type, data, at: deps.clock.now(), ...options });
}

export interface WebhookHarness {
  readonly t: TestApp;
  readonly worker: TestWorker;
  readonly rx: Receiver;
  close(): Promise<void>;
}

/** A test app (on `clock`, if given), its webhook worker (consumer and tasks) with `options`, and a receiver. */
export async function startWebhookHarness(
  options: WebhookWorkerOptions,
  env: Record<string, string> = {},
  clock?: Clock,
): Promise<WebhookHarness> {
  const t = await startTestApp({ env, clock });
  const worker = startTestWorker(t.deps, {
    consumers: [webhookConsumer(t.deps, options)],
    tasks: webhookTasks(t.deps, options),
  });
  const rx = await startReceiver();
  return {
    t,
    worker,
    rx,
    close: async () => {
      await worker.close();
      await rx.close();
      await t.close();
    },
  };
}
