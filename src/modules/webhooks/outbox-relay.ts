import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import { uuidv7 } from '../../ids.js';
import { insertDeliveries, markDispatched, type NewDelivery, takeFanOuts } from './fan-out.repository.js';
import { settleTouchpointFailed, TOUCHPOINT_DUE } from './touchpoint-settlement.js';

export interface RelayContext {
  readonly db: Database;
  readonly clock: Clock;
  /** Attempts each new delivery gets (the retry schedule's length). */
  readonly maxAttempts: number;
  /** Queues the first attempt of deliveries that committed, each after its `delayMs` (if any). */
  readonly enqueue: (deliveries: readonly QueuedDelivery[]) => Promise<void>;
  /**
   * Jobs that start at once per endpoint and batch (the per-endpoint cap); the endpoint's other
   * new deliveries get their jobs BACKLOG_JOB_DELAY_MS later. Unset: all at once.
   */
  readonly immediatePerEndpoint?: number;
  /** Where this process's relay looks from (see RelayCursor); unset: always from the start. */
  readonly cursor?: RelayCursor;
}

/**
 * A relay's place in the outbox. A dispatched row leaves the pending index only when the
 * table is vacuumed, so a look from the start reads every row dispatched since; under a steady
 * stream that is most of the work. The relay looks from the lowest seq of its last batch
 * instead, and from the start once a second, for a row whose transaction committed after
 * rows with higher seqs had been taken (seqs are given out before commit).
 */
export interface RelayCursor {
  from: number;
  fullLookAt: number;
}

const FULL_LOOK_MS = 1_000;

export function relayCursor(): RelayCursor {
  return { from: 0, fullLookAt: 0 };
}

export interface QueuedDelivery {
  readonly workspaceId: string;
  readonly id: string;
  readonly delayMs?: number;
}

const BATCH = 200;

/**
 * Beyond the per-endpoint cap, a new delivery's job waits this long: the workers that took the
 * first ones keep their slots for the endpoint's next deliveries (see drainEndpoint) and have
 * usually sent it by then, so its job only finds it done; if they stopped (the receiver failed),
 * the job makes the attempt. Starting it at once would only find the endpoint busy.
 */
export const BACKLOG_JOB_DELAY_MS = 5_000;

/** Delays the jobs of an endpoint's deliveries beyond the first `immediate` of the batch. */
export function staggerJobs(
  created: readonly { workspaceId: string; id: string; endpointId: string }[],
  immediate: number | undefined,
): QueuedDelivery[] {
  if (immediate === undefined) return created.map(({ workspaceId, id }) => ({ workspaceId, id }));
  const seen = new Map<string, number>();
  return created.map(({ workspaceId, id, endpointId }) => {
    const key = `${workspaceId}/${endpointId}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n <= immediate ? { workspaceId, id } : { workspaceId, id, delayMs: BACKLOG_JOB_DELAY_MS };
  });
}

/**
 * Fans undispatched outbox events out into deliveries, a batch per transaction: the
 * deliveries, the outbox rows marked dispatched and the touchpoints that have nobody to go to
 * (failed, `no_endpoint` or `endpoint_disabled`) commit together. The jobs are queued after the
 * commit; if that fails, the sweep queues them. Returns how many events were relayed.
 */
export async function relayOutbox(ctx: RelayContext): Promise<number> {
  let relayed = 0;
  const cursor = ctx.cursor;
  if (cursor && Date.now() >= cursor.fullLookAt) {
    cursor.from = 0;
    cursor.fullLookAt = Date.now() + FULL_LOOK_MS;
  }
  for (;;) {
    const { count, created, lowest } = await ctx.db.transaction().execute(async (trx) => {
      const fanOuts = await takeFanOuts(trx, BATCH, cursor?.from ?? 0);
      const now = ctx.clock.now();
      const deliveries: NewDelivery[] = fanOuts.flatMap((event) =>
        event.endpointIds.map((endpointId) => ({
          workspaceId: event.workspaceId,
          id: uuidv7(now),
          endpointId,
          eventId: event.eventId,
          eventType: event.type,
          maxAttempts: ctx.maxAttempts,
          at: now,
        })),
      );
      const inserted = await insertDeliveries(trx, deliveries);
      for (const event of fanOuts) {
        if (event.type !== TOUCHPOINT_DUE || event.endpointIds.length > 0) continue;
        const reason = event.targetDisabled ? 'endpoint_disabled' : 'no_endpoint';
        await settleTouchpointFailed(trx, event.workspaceId, event.eventId, reason, now);
      }
      await markDispatched(
        trx,
        fanOuts.map((event) => event.seq),
        now,
      );
      return { count: fanOuts.length, created: inserted, lowest: fanOuts[0]?.seq };
    });
    if (cursor && lowest !== undefined) cursor.from = Math.max(cursor.from, lowest);
    if (created.length > 0) await ctx.enqueue(staggerJobs(created, ctx.immediatePerEndpoint));
    relayed += count;
    if (count < BATCH) return relayed;
  }
}
