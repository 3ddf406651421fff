import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Deps } from '../../deps.js';
import type { PeriodicTask } from '../../queue/periodic.js';
import { sharedQueue } from '../../queue/shared-queue.js';
import type { QueueConsumer } from '../../queue/worker-host.js';
import { type OverdueDelivery, overdueDeliveries } from './deliveries.repository.js';
import { deliverWebhook } from './delivery.service.js';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  DEFAULT_TIMEOUT_MS,
  type DeliveryContext,
  successGroups,
} from './delivery-attempt.js';
import { type QueuedDelivery, relayCursor, relayOutbox } from './outbox-relay.js';
import { pruneWebhookHistory } from './retention.js';
import { webhookMetrics } from './webhook-metrics.js';

/** The BullMQ queue of webhook deliveries: one job per delivery, jobId = the delivery id. */
export const WEBHOOKS_QUEUE = 'webhooks';
export const OUTBOX_RELAY_TASK = 'outbox-relay';
export const WEBHOOK_SWEEP_TASK = 'webhook-sweep';
export const WEBHOOK_RETENTION_TASK = 'webhook-retention';

/** Attempts in flight to one endpoint at most, by default. */
const DEFAULT_PER_ENDPOINT = 10;

// Overdue deliveries the sweep reads at a time, and pages of them one round looks at, at most.
const SWEEP_BATCH = 500;
const SWEEP_PAGES = 40;

/** Ids only: the processor reads everything else from Postgres. */
export interface DeliveryJob {
  readonly workspaceId: string;
  readonly deliveryId: string;
}

/** The producer side of the queue over a connection; one per connection, shared by its users. */
export function webhookQueue(redis: Redis, prefix: string): Queue<DeliveryJob> {
  return sharedQueue(redis, WEBHOOKS_QUEUE, prefix);
}

/**
 * Queues deliveries' next attempts. A delivery's job id is its own id, so queueing one that is
 * already queued does nothing; finished jobs are removed, so the id can be queued again.
 */
export async function enqueueDeliveries(
  queue: Queue<DeliveryJob>,
  deliveries: readonly QueuedDelivery[],
): Promise<void> {
  await queue.addBulk(
    deliveries.map((d) => ({
      name: 'deliver',
      data: { workspaceId: d.workspaceId, deliveryId: d.id },
      opts: {
        jobId: d.id,
        removeOnComplete: true,
        removeOnFail: true,
        ...(d.delayMs ? { delay: d.delayMs } : {}),
      },
    })),
  );
}

/**
 * Removes a delivery's waiting job (DeliveryContext.unschedule). A running job is locked by its
 * worker and stays; a failure (Redis away) only leaves the job to run and find the delivery done.
 */
export function dropDeliveryJob(queue: Queue<DeliveryJob>) {
  return async (delivery: { readonly id: string }): Promise<void> => {
    await queue.remove(delivery.id).catch(() => 0);
  };
}

/** Knobs tests turn; production uses the defaults. */
export interface WebhookWorkerOptions {
  /** Delays before each attempt, the first usually 0; its length is the number of attempts. */
  readonly retryScheduleMs?: readonly number[];
  readonly timeoutMs?: number;
  /** ± fraction of each retry delay (default 0.1). */
  readonly jitter?: number;
  /** Deliveries processed at once by this worker (default WORKER_CONCURRENCY). */
  readonly concurrency?: number;
  /** Attempts in flight to one endpoint at most (default 10). */
  readonly perEndpointConcurrency?: number;
  readonly relayIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  /** How overdue a delivery must be before the sweep re-queues it (default 30 s). */
  readonly sweepGraceMs?: number;
  readonly retentionIntervalMs?: number;
  /** Rows per retention batch (default 1000). */
  readonly retentionBatchSize?: number;
  /** Retention batches per table and round at most (default 100). */
  readonly retentionMaxBatches?: number;
}

/** What a delivery attempt needs, from the worker's deps and options. */
export function deliveryContext(deps: Deps, options: WebhookWorkerOptions): DeliveryContext {
  return {
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    metrics: webhookMetrics(deps.metrics),
    allowPrivate: deps.config.webhookAllowPrivate,
    retryScheduleMs: options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    jitter: options.jitter ?? 0.1,
    perEndpointConcurrency: options.perEndpointConcurrency ?? DEFAULT_PER_ENDPOINT,
  };
}

/**
 * The delivery worker. A failed attempt that has a retry left moves its own job to the delayed
 * set (the retry's due time is in Postgres too), so a delivery keeps one job and one id.
 */
export function webhookConsumer(deps: Deps, options: WebhookWorkerOptions = {}): QueueConsumer {
  // A delivery retried after a worker took it from the endpoint's backlog may have no job left.
  const queue = webhookQueue(deps.redis, deps.config.queuePrefix);
  const ctx: DeliveryContext = {
    ...deliveryContext(deps, options),
    schedule: (delivery) => enqueueDeliveries(queue, [delivery]),
    unschedule: dropDeliveryJob(queue),
    successes: successGroups(deps.db),
  };
  return {
    queue: WEBHOOKS_QUEUE,
    concurrency: options.concurrency,
    processor: async (job: Job<DeliveryJob>, token?: string) => {
      const outcome = await deliverWebhook(
        ctx,
        job.data.workspaceId,
        job.data.deliveryId,
        job.attemptsStarted,
      );
      if (outcome.kind === 'retry') {
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      }
      return outcome.kind;
    },
  };
}

/** How often the relay looks for new outbox rows: bounds the outbox's share of the due→sent lag. */
const RELAY_INTERVAL_MS = 200;

/**
 * The outbox relay (every 200 ms: a look at a partial index), the recovery sweep, and the
 * retention of delivered events and finished deliveries (every 10 min).
 */
export function webhookTasks(deps: Deps, options: WebhookWorkerOptions = {}): PeriodicTask[] {
  const queue = webhookQueue(deps.redis, deps.config.queuePrefix);
  const maxAttempts = (options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS).length;
  const cursor = relayCursor();
  const relay = singleFlight(() =>
    relayOutbox({
      db: deps.db,
      clock: deps.clock,
      maxAttempts,
      enqueue: (deliveries) => enqueueDeliveries(queue, deliveries),
      immediatePerEndpoint: options.perEndpointConcurrency ?? DEFAULT_PER_ENDPOINT,
      cursor,
    }),
  );
  const grace = options.sweepGraceMs ?? 30_000;
  return [
    {
      name: OUTBOX_RELAY_TASK,
      intervalMs: options.relayIntervalMs ?? RELAY_INTERVAL_MS,
      run: () => relay(),
    },
    {
      name: WEBHOOK_SWEEP_TASK,
      intervalMs: options.sweepIntervalMs ?? 15_000,
      run: async () => {
        const before = new Date(deps.clock.now().getTime() - grace);
        // Page through them all: the most overdue may have live jobs that keep them so (a
        // backlog behind a slow endpoint), and must not hide the lost ones behind them.
        let after: OverdueDelivery | undefined;
        for (let page = 0; page < SWEEP_PAGES; page++) {
          const overdue = await overdueDeliveries(deps.db, before, SWEEP_BATCH, after);
          await requeueLost(queue, overdue);
          after = overdue.at(-1);
          if (overdue.length < SWEEP_BATCH) break;
        }
      },
    },
    {
      name: WEBHOOK_RETENTION_TASK,
      intervalMs: options.retentionIntervalMs ?? 10 * 60_000,
      run: async () => {
        await pruneWebhookHistory({
          db: deps.db,
          clock: deps.clock,
          log: deps.log,
          pruned: webhookMetrics(deps.metrics).pruned,
          outboxRetentionDays: deps.config.outboxRetentionDays,
          deliveryRetentionDays: deps.config.webhookDeliveryRetentionDays,
          batchSize: options.retentionBatchSize ?? 1000,
          maxBatches: options.retentionMaxBatches ?? 100,
        });
      },
    },
  ];
}

/**
 * Queues again the overdue deliveries that have no live job: Redis lost it, or the relay died
 * between its commit and queueing. Postgres says what is due; Redis is only near-term work.
 */
export async function requeueLost(
  queue: Queue<DeliveryJob>,
  overdue: readonly { readonly workspaceId: string; readonly id: string }[],
): Promise<void> {
  const lost: { workspaceId: string; id: string }[] = [];
  for (const delivery of overdue) {
    const job = await queue.getJob(delivery.id);
    if (job) {
      const state = await job.getState();
      // Postgres says it is due now: a job still waiting for a later time is brought forward.
      if (state === 'delayed') await job.promote().catch(() => {});
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
      await job.remove().catch(() => {});
    }
    lost.push(delivery);
  }
  if (lost.length > 0) await enqueueDeliveries(queue, lost);
}

/** Runs `fn` once at a time; calls during a run make one more run after it. */
function singleFlight(fn: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await fn();
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
