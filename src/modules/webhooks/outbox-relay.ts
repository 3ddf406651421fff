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
  /** Queues the first attempt of deliveries that committed. */
  readonly enqueue: (deliveries: readonly { workspaceId: string; id: string }[]) => Promise<void>;
}

const BATCH = 200;

/**
 * Fans undispatched outbox events out into deliveries, a batch per transaction: the
 * deliveries, the outbox rows marked dispatched and the touchpoints that have nobody to go to
 * (failed, `no_endpoint` or `endpoint_disabled`) commit together. The jobs are queued after the
 * commit; if that fails, the sweep queues them. Returns how many events were relayed.
 */
export async function relayOutbox(ctx: RelayContext): Promise<number> {
  let relayed = 0;
  for (;;) {
    const { count, created } = await ctx.db.transaction().execute(async (trx) => {
      const fanOuts = await takeFanOuts(trx, BATCH);
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
      return { count: fanOuts.length, created: inserted };
    });
    if (created.length > 0) await ctx.enqueue(created);
    relayed += count;
    if (count < BATCH) return relayed;
  }
}
