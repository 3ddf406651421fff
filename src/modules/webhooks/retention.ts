import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import {
  eraseExpiredSecrets,
  type OutboxPosition,
  pruneDispatchedOutbox,
  pruneFinishedDeliveries,
} from './retention.repository.js';

const DAY_MS = 86_400_000;

export interface RetentionContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  /** Counts what was removed, by kind (delivery, outbox_event, secret). */
  readonly pruned: Counter<'kind'>;
  /** OUTBOX_RETENTION_DAYS. */
  readonly outboxRetentionDays: number;
  /** WEBHOOK_DELIVERY_RETENTION_DAYS. */
  readonly deliveryRetentionDays: number;
  /** Rows deleted (deliveries) or looked at (outbox) per transaction. */
  readonly batchSize: number;
  /** Batches per table and round at most: a large backlog is worked off over several rounds. */
  readonly maxBatches: number;
}

export interface RetentionRound {
  readonly deliveries: number;
  readonly outbox: number;
  /** Rotated-out secrets erased, their grace period over. */
  readonly secrets: number;
}

/**
 * One round of retention: finished webhook deliveries completed more than the delivery
 * retention ago (with their attempts), then dispatched outbox events older than the outbox
 * retention that no delivery still refers to. Deliveries go first so that events whose last
 * delivery just went can follow in the same round. Each batch is its own short transaction;
 * several workers may run rounds at once (they skip each other's rows). Pending and in-flight
 * deliveries, and events not yet relayed, are never touched. Last, rotated-out signing secrets
 * whose grace period is over are erased.
 */
export async function pruneWebhookHistory(ctx: RetentionContext): Promise<RetentionRound> {
  const now = ctx.clock.now().getTime();
  const deliveriesBefore = new Date(now - ctx.deliveryRetentionDays * DAY_MS);
  const outboxBefore = new Date(now - ctx.outboxRetentionDays * DAY_MS);

  let deliveries = 0;
  for (let batch = 0; batch < ctx.maxBatches; batch++) {
    const deleted = await pruneFinishedDeliveries(ctx.db, deliveriesBefore, ctx.batchSize);
    deliveries += deleted;
    if (deleted < ctx.batchSize) break;
  }

  // The walk moves on past events kept for their deliveries, so a round does not look at them
  // again with every batch.
  let outbox = 0;
  let after: OutboxPosition | undefined;
  for (let batch = 0; batch < ctx.maxBatches; batch++) {
    const result = await pruneDispatchedOutbox(ctx.db, outboxBefore, ctx.batchSize, after);
    outbox += result.deleted;
    after = result.last;
    if (result.scanned < ctx.batchSize) break;
  }

  const secrets = await eraseExpiredSecrets(ctx.db, new Date(now));
  ctx.pruned.inc({ kind: 'delivery' }, deliveries);
  ctx.pruned.inc({ kind: 'outbox_event' }, outbox);
  ctx.pruned.inc({ kind: 'secret' }, secrets);
  if (deliveries + outbox + secrets > 0) {
    ctx.log.info({ deliveries, outbox, secrets }, 'pruned webhook history past retention');
  }
  return { deliveries, outbox, secrets };
}
