import { type ClaimedDelivery, claimDelivery } from './deliveries.repository.js';
import { attemptDelivery, type DeliveryContext, jittered, leaseUntil } from './delivery-attempt.js';
import { claimNextDue } from './endpoint-drain.repository.js';

export type DeliveryOutcome =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly delayMs: number };

const BUSY_DELAY_MS = 1000;

/** Makes one attempt of a delivery, records it, and says whether another one is due and when. */
export async function deliverWebhook(
  ctx: DeliveryContext,
  workspaceId: string,
  deliveryId: string,
  /** How many times its job has started (each busy endpoint found counts). */
  busyRounds = 1,
): Promise<DeliveryOutcome> {
  const now = ctx.clock.now();
  const delivery = await claimDelivery(
    ctx.db,
    workspaceId,
    deliveryId,
    now,
    leaseUntil(ctx, now),
    ctx.perEndpointConcurrency,
  );
  if (!delivery) return { kind: 'skipped' };
  // Its endpoint is busy: come back shortly, without spending an attempt.
  // Each time it finds it busy it waits twice as long (up to 8 s): a backlog of thousands behind
  // one endpoint must not poll Postgres thousands of times a second and starve the real attempts.
  if (delivery === 'busy') {
    const doubling = Math.min(Math.max(busyRounds - 1, 0), 3);
    return { kind: 'retry', delayMs: jittered(BUSY_DELAY_MS * 2 ** doubling, 0.5) };
  }
  // Its job ran before the attempt is due: it waits for it, without spending an attempt.
  if ('notBefore' in delivery) {
    return { kind: 'retry', delayMs: Math.max(0, delivery.notBefore.getTime() - now.getTime()) };
  }
  const outcome = await attemptDelivery(ctx, delivery, now);
  if (outcome.kind === 'done' && outcome.succeeded && delivery.backlog) await drainEndpoint(ctx, delivery);
  return outcome.kind === 'done' ? { kind: 'done' } : outcome;
}

// How long, and for how many deliveries at most, a worker keeps its slot for one endpoint.
const DRAIN_MS = 5_000;
const DRAIN_LIMIT = 1_000;

/**
 * After a successful attempt, the slot it held goes to the endpoint's next due delivery, and
 * so on while the receiver keeps answering 2xx (a failing one is left to its deliveries' own
 * schedules) and others wait (each claim says whether they did). A backlog behind one endpoint
 * is so worked off at the pace the receiver answers, within the per-endpoint cap, rather than at
 * the pace the waiting jobs come back to look for a free slot. Their jobs find them done and end.
 */
async function drainEndpoint(ctx: DeliveryContext, first: ClaimedDelivery): Promise<void> {
  const until = Date.now() + DRAIN_MS;
  for (let n = 0; n < DRAIN_LIMIT && Date.now() < until; n++) {
    const now = ctx.clock.now();
    const next = await claimNextDue(ctx.db, first.workspaceId, first.endpointId, now, leaseUntil(ctx, now));
    if (!next) return;
    await ctx.unschedule?.(next);
    const outcome = await attemptDelivery(ctx, next, now);
    if (outcome.kind === 'retry')
      await ctx.schedule?.({ workspaceId: next.workspaceId, id: next.id, delayMs: outcome.delayMs });
    if (outcome.kind !== 'done' || !outcome.succeeded || !next.backlog) return;
  }
}
