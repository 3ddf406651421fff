import { sql, type Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { GroupCommit } from '../../db/group-commit.js';
import type { DB } from '../../db/types.js';
import type { Secrets } from '../../secrets.js';
import {
  type AttemptRecord,
  type ClaimedDelivery,
  cancelDelivery,
  cancelPendingDeliveries,
  recordAttempt,
  recordAttempts,
} from './deliveries.repository.js';
import {
  recordTouchpointAttempt,
  recordTouchpointsSent,
  settleIfAllFailed,
  TOUCHPOINT_DUE,
  type TouchpointFailure,
} from './touchpoint-settlement.js';
import { postWebhook, type WebhookResponse } from './webhook-http.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { openSecret, signaturesOf } from './webhook-secret.js';
import { disableEndpoint } from './webhooks.repository.js';

// One attempt of a claimed delivery: signed, sent, recorded, and what follows from its answer
// (the next attempt, the endpoint disabled, the touchpoint it carries settled).

/**
 * Delays before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (the
 * Standard Webhooks reference schedule). After the last one the delivery is failed.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface DeliveryContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly secrets: Secrets;
  readonly metrics: WebhookMetrics;
  /** WEBHOOK_ALLOW_PRIVATE. */
  readonly allowPrivate: boolean;
  readonly retryScheduleMs: readonly number[];
  readonly timeoutMs: number;
  /** Spreads retries by ± this fraction, so endpoints that failed together do not retry together. */
  readonly jitter: number;
  /** Attempts in flight to one endpoint at most; the others wait (see claimDelivery). */
  readonly perEndpointConcurrency: number;
  /**
   * Queues a delivery's next attempt after `delayMs` (a no-op when its job is still there). A
   * delivery taken from the endpoint's backlog may have had its job end meanwhile: it found the
   * delivery in flight. Unset, such a retry waits for the sweep.
   */
  readonly schedule?: (delivery: { workspaceId: string; id: string; delayMs: number }) => Promise<void>;
  /**
   * Drops the waiting job of a delivery a worker took from the endpoint's backlog, which would
   * only find it done (a no-op when it has none, or when it is running). Unset, it runs and
   * finds it so. Should the worker die during the attempt, the sweep queues the delivery again,
   * as it would anyway: the job would have found it held by the dead worker's lease.
   */
  readonly unschedule?: (delivery: { workspaceId: string; id: string }) => Promise<void>;
  /** Group commit of successful attempts (successGroups); unset, each is recorded alone. */
  readonly successes?: GroupCommit<DeliverySuccess, null>;
}

// How long past its timeout an attempt keeps its claim: beyond it, the worker is presumed dead.
const LEASE_MARGIN_MS = 60_000;

/** Until when an attempt started at `now` holds its delivery. */
export function leaseUntil(ctx: DeliveryContext, now: Date): Date {
  return new Date(now.getTime() + ctx.timeoutMs + LEASE_MARGIN_MS);
}

export type AttemptOutcome =
  | { readonly kind: 'done'; readonly succeeded: boolean }
  | { readonly kind: 'retry'; readonly delayMs: number };

/** One attempt of a claimed delivery, recorded with what follows from it. */
export async function attemptDelivery(
  ctx: DeliveryContext,
  delivery: ClaimedDelivery,
  now: Date,
): Promise<AttemptOutcome> {
  const { workspaceId, id: deliveryId } = delivery;
  if (!delivery.endpointLive) {
    await ctx.db.transaction().execute(async (trx) => {
      await cancelDelivery(trx, workspaceId, deliveryId, now);
      await settleEventIfAllFailed(trx, delivery, 'endpoint_disabled', now);
    });
    return { kind: 'done', succeeded: false };
  }

  const attempt = delivery.attempts + 1;
  const key = await ctx.secrets.signingKey();
  const secret = openSecret(delivery.secretCiphertext, key);
  // A rotated-out secret signs too until its grace period ends, so receivers can switch.
  const previous = delivery.previousSecretCiphertext && openSecret(delivery.previousSecretCiphertext, key);
  // Retrying cannot help a secret that does not decrypt: the instance key changed since.
  const response =
    secret === undefined
      ? SECRET_UNREADABLE
      : await send(ctx, delivery, previous ? [secret, previous] : [secret], now);
  const at = ctx.clock.now();
  const record: AttemptRecord = {
    attempt,
    at,
    statusCode: response.statusCode,
    durationMs: response.durationMs,
    error: response.error,
    responseExcerpt: response.excerpt,
  };
  const succeeded = response.statusCode !== null && response.statusCode >= 200 && response.statusCode < 300;
  const gone = response.statusCode === 410;
  const retryDelay =
    succeeded || gone || attempt >= delivery.maxAttempts || secret === undefined
      ? undefined
      : jittered(ctx.retryScheduleMs[attempt] ?? ctx.retryScheduleMs.at(-1) ?? 0, ctx.jitter);

  // A failed attempt is recorded alone: with what follows from it (a retry, the endpoint
  // disabled, the touchpoint failed) it is rare beside the successes.
  const cancelled = succeeded
    ? await recordSuccess(ctx, workspaceId, { delivery, record })
    : await ctx.db.transaction().execute(async (trx) => {
        // Disabled or deleted while this attempt was in flight: its waiting deliveries were
        // cancelled then, but not this one (it was sending). It ends now rather than at a retry
        // hours away that would only cancel it, so its touchpoint settles now. The lock orders
        // this with that change.
        const cancelled =
          retryDelay !== undefined && !(await endpointIsLive(trx, workspaceId, delivery.endpointId));
        const status = cancelled ? 'cancelled' : retryDelay === undefined ? 'failed' : 'pending';
        const next = retryDelay === undefined || cancelled ? null : new Date(at.getTime() + retryDelay);
        await recordAttempt(trx, workspaceId, deliveryId, record, { status, nextAttemptAt: next });
        if (delivery.eventType === TOUCHPOINT_DUE) {
          await recordTouchpointAttempt(trx, workspaceId, delivery.eventId, {
            at,
            succeeded: false,
            error: describeFailure(delivery, response),
            deliveryId,
          });
        }
        if (gone) {
          await disableGoneEndpoint(trx, delivery, at);
        } else if (status === 'failed') {
          await settleEventIfAllFailed(trx, delivery, 'delivery_failed', at);
        } else if (status === 'cancelled') {
          await settleEventIfAllFailed(trx, delivery, 'endpoint_disabled', at);
        }
        return cancelled;
      });

  const outcome = succeeded
    ? 'succeeded'
    : gone
      ? 'gone'
      : cancelled
        ? 'cancelled'
        : retryDelay === undefined
          ? 'failed'
          : 'retrying';
  ctx.metrics.deliveries.inc({ status: outcome, endpoint: delivery.endpointId });
  if (response.statusCode !== null) ctx.metrics.duration.observe(response.durationMs / 1000);
  return retryDelay === undefined || cancelled
    ? { kind: 'done', succeeded }
    : { kind: 'retry', delayMs: retryDelay };
}

/** A successful attempt, to record. */
export interface DeliverySuccess {
  readonly delivery: ClaimedDelivery;
  readonly record: AttemptRecord;
}

/**
 * Records a successful attempt: with the attempts succeeding at the same time when
 * `ctx.successes` groups them (one transaction, a few statements for them all), else alone.
 * Resolves to false (a success is never cancelled) once it has committed.
 */
async function recordSuccess(
  ctx: DeliveryContext,
  workspaceId: string,
  success: DeliverySuccess,
): Promise<false> {
  if (ctx.successes) await ctx.successes.submit(workspaceId, success);
  else await ctx.db.transaction().execute((trx) => recordSuccesses(trx, workspaceId, [success]));
  return false;
}

/** Group commit of successful attempts over `db` (see recordSuccesses). */
export function successGroups(db: Database): GroupCommit<DeliverySuccess, null> {
  return new GroupCommit(
    async (workspaceId, successes) => {
      await db.transaction().execute((trx) => recordSuccesses(trx, workspaceId, successes));
      return successes.map(() => null);
    },
    { maxGroup: 100, maxInFlight: 3 },
  );
}

/**
 * Successful attempts of a workspace's deliveries, set-wise: logged, their deliveries
 * `succeeded`, and the touchpoints they carried settled `sent` with their events.
 */
export async function recordSuccesses(
  trx: Transaction<DB>,
  workspaceId: string,
  successes: readonly DeliverySuccess[],
): Promise<void> {
  await recordAttempts(
    trx,
    workspaceId,
    successes.map(({ delivery, record }) => ({
      deliveryId: delivery.id,
      attempt: record,
      next: { status: 'succeeded', nextAttemptAt: null },
    })),
  );
  await recordTouchpointsSent(
    trx,
    workspaceId,
    successes
      .filter(({ delivery }) => delivery.eventType === TOUCHPOINT_DUE)
      .map(({ delivery, record }) => ({
        touchpointId: delivery.eventId,
        at: record.at,
        deliveryId: delivery.id,
      })),
  );
}

const SECRET_UNREADABLE: WebhookResponse = {
  statusCode: null,
  durationMs: 0,
  error: 'the signing secret cannot be decrypted (SECRET_KEY changed?); recreate the webhook',
  excerpt: null,
};

function send(
  ctx: DeliveryContext,
  delivery: ClaimedDelivery,
  secrets: readonly string[],
  now: Date,
): Promise<WebhookResponse> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const body = JSON.stringify({
    type: delivery.eventType,
    timestamp: delivery.eventAt.toISOString(),
    data: JSON.parse(delivery.eventData) as unknown,
  });
  return postWebhook({
    url: delivery.url,
    body,
    timeoutMs: ctx.timeoutMs,
    allowPrivate: ctx.allowPrivate,
    headers: {
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signaturesOf(secrets, delivery.eventId, timestamp, body),
    },
  });
}

function describeFailure(delivery: ClaimedDelivery, response: WebhookResponse): string {
  const what = response.statusCode !== null ? `HTTP ${response.statusCode}` : (response.error ?? 'failed');
  return `webhook ${delivery.endpointId}: ${what}`;
}

export function jittered(delayMs: number, jitter: number): number {
  return Math.max(0, Math.round(delayMs * (1 - jitter + 2 * jitter * Math.random())));
}

/** Whether the endpoint may still receive; waits for a change to it in flight, and holds it off. */
async function endpointIsLive(
  trx: Transaction<DB>,
  workspaceId: string,
  endpointId: string,
): Promise<boolean> {
  const row = await trx
    .selectFrom('webhookEndpoints')
    .select(sql<boolean>`enabled AND deleted_at IS NULL`.as('live'))
    .where('workspaceId', '=', workspaceId)
    .where('id', '=', endpointId)
    .forShare()
    .executeTakeFirst();
  return row?.live === true;
}

/** 410 Gone: the receiver asks for nothing more. Its waiting deliveries are cancelled. */
async function disableGoneEndpoint(trx: Transaction<DB>, delivery: ClaimedDelivery, at: Date): Promise<void> {
  await disableEndpoint(trx, delivery.workspaceId, delivery.endpointId, 'gone', at);
  await settleEventIfAllFailed(trx, delivery, 'endpoint_disabled', at);
  await settleCancelled(
    trx,
    delivery.workspaceId,
    await cancelPendingDeliveries(trx, delivery.workspaceId, delivery.endpointId, at),
    at,
  );
}

/** Settles the touchpoints whose deliveries were just cancelled along with their endpoint. */
export async function settleCancelled(
  trx: Transaction<DB>,
  workspaceId: string,
  cancelled: readonly { readonly eventId: string; readonly eventType: string }[],
  at: Date,
): Promise<void> {
  for (const { eventId, eventType } of cancelled) {
    if (eventType === TOUCHPOINT_DUE)
      await settleIfAllFailed(trx, workspaceId, eventId, 'endpoint_disabled', at);
  }
}

async function settleEventIfAllFailed(
  trx: Transaction<DB>,
  delivery: ClaimedDelivery,
  reason: TouchpointFailure,
  at: Date,
): Promise<void> {
  if (delivery.eventType !== TOUCHPOINT_DUE) return;
  await settleIfAllFailed(trx, delivery.workspaceId, delivery.eventId, reason, at);
}
