import { GroupCommit } from '../../db/group-commit.js';
import { lockCustomer, lockTouchpoint, peekTouchpoint } from './dispatch.repository.js';
import {
  type AttemptInfo,
  type DispatchContext,
  type DispatchItem,
  type DispatchOutcome,
  type DispatchStep,
  settle,
} from './dispatch-context.js';
import { decideGroup } from './dispatch-group.js';
import type { DispatchJobData } from './dispatch-queue.js';
import { deliverEmail } from './email-delivery.js';

export type { AttemptInfo, DispatchContext, DispatchOutcome } from './dispatch-context.js';

/**
 * Runs one dispatch job: re-checks the touchpoint at send time and delivers it. Safe to run
 * twice: the status decides, under row locks, whether there is anything left to do. Jobs that
 * run at the same time are decided together (`ctx.groups`, see decideGroup). Email is the one
 * channel with a side effect outside Postgres; its content is frozen (`sending`) in a
 * transaction first, then sent, then the outcome recorded — a crash between the SMTP server's
 * acceptance and that record sends it again on the next run, with the same Message-ID.
 */
export async function dispatchTouchpoint(
  ctx: DispatchContext,
  job: DispatchJobData,
  attempt: AttemptInfo,
): Promise<DispatchOutcome> {
  const customerId =
    job.customerId ?? (await peekTouchpoint(ctx.db, job.workspaceId, job.touchpointId))?.customerId;
  if (!customerId) return { kind: 'noop', reason: 'gone' };
  const item: DispatchItem = { ...job, customerId };
  const step = ctx.groups
    ? await ctx.groups.submit(job.workspaceId, item)
    : (await decideGroup(ctx, job.workspaceId, [item]))[0];
  if (!step) throw new Error('dispatch decided nothing');
  if (step.kind !== 'deliver') return step;
  return deliverEmail(ctx, step.delivery, attempt);
}

/** Group commit of dispatch jobs over `ctx`: jobs due together are decided in one transaction. */
export function createDispatchGroups(ctx: DispatchContext): GroupCommit<DispatchItem, DispatchStep> {
  return new GroupCommit((workspaceId, items) => decideGroup(ctx, workspaceId, items), {
    maxGroup: MAX_GROUP,
    maxInFlight: GROUPS_IN_FLIGHT,
  });
}

// Jobs decided in one transaction at most, and such transactions at once (each holds a pooled
// connection while it runs).
const MAX_GROUP = 100;
const GROUPS_IN_FLIGHT = 3;

/**
 * Records a touchpoint as failed after its job ran out of attempts on an unexpected error
 * (not a delivery answer), so that it still reaches a terminal state.
 */
export async function failAfterError(
  ctx: DispatchContext,
  job: DispatchJobData,
  error: string,
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const peek = await peekTouchpoint(trx, job.workspaceId, job.touchpointId);
    if (!peek) return;
    const customer = await lockCustomer(trx, job.workspaceId, peek.customerId);
    const touchpoint = await lockTouchpoint(trx, job.workspaceId, job.touchpointId);
    if (!touchpoint || !customer || !['queued', 'sending'].includes(touchpoint.status)) return;
    if (touchpoint.status === 'sending' && touchpoint.channel !== 'email') return;
    ctx.log.error({ touchpoint_id: touchpoint.id, error }, 'dispatch gave up on a touchpoint');
    await settle(ctx, trx, {
      touchpoint,
      customer,
      status: 'failed',
      change: { statusReason: 'error' },
      event: 'touchpoint.failed',
      now: ctx.clock.now(),
      delivered: touchpoint.status === 'sending',
    });
  });
}
