import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { effectiveConsent } from '../customers/consent.js';
import type { OutgoingEventType } from '../outbox/outbox.js';
import { trackingLinks } from '../tracking/tracking-links.js';
import {
  changeTouchpoint,
  insertAttempt,
  lockCustomer,
  lockTouchpoint,
  peekTouchpoint,
  type TouchpointChange,
} from './dispatch.repository.js';
import {
  type AttemptInfo,
  type DispatchContext,
  type DispatchOutcome,
  type EmailDelivery,
  settle,
} from './dispatch-context.js';
import { decideDispatch, type Renderer } from './dispatch-decision.js';
import type { DispatchJobData } from './dispatch-queue.js';
import { deliverEmail } from './email-delivery.js';
import { renderTouchpoint, type StoredContent } from './render-touchpoint.js';

export type { AttemptInfo, DispatchContext, DispatchOutcome } from './dispatch-context.js';

/**
 * Runs one dispatch job: re-checks the touchpoint at send time and delivers it. Safe to run
 * twice: the status decides, under row locks, whether there is anything left to do. Email is
 * the one channel with a side effect outside Postgres; its content is frozen (`sending`) in a
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
  const step = await ctx.db.transaction().execute((trx) => decideAndRecord(ctx, trx, customerId, job));
  if (step.kind !== 'deliver') return step;
  return deliverEmail(ctx, step.delivery, attempt);
}

type Step = DispatchOutcome | { readonly kind: 'deliver'; readonly delivery: EmailDelivery };

async function decideAndRecord(
  ctx: DispatchContext,
  trx: Transaction<DB>,
  customerId: string,
  job: DispatchJobData,
): Promise<Step> {
  const customer = await lockCustomer(trx, job.workspaceId, customerId);
  const touchpoint = await lockTouchpoint(trx, job.workspaceId, job.touchpointId);
  if (!touchpoint || !customer || touchpoint.customerId !== customer.id)
    return { kind: 'noop', reason: 'gone' };
  if (touchpoint.status === 'sending' && touchpoint.channel === 'email' && touchpoint.contentText) {
    // Between attempts the customer may have unsubscribed (RFC 8058: it holds at once) or
    // been erased: then the retry stops here.
    const optedOut =
      effectiveConsent(customer.consent as Record<string, unknown>).email.status === 'opted_out';
    if (optedOut || !customer.email) {
      return settle(ctx, trx, {
        touchpoint,
        customer,
        status: 'skipped',
        change: { statusReason: optedOut ? 'consent' : 'no_address' },
        now: ctx.clock.now(),
        delivered: true,
      });
    }
    // A retry, or a run cut short after the content was frozen: deliver what was rendered.
    const content = JSON.parse(touchpoint.contentText) as EmailDelivery['content'];
    return { kind: 'deliver', delivery: { touchpoint, customer, content } };
  }
  if (touchpoint.status !== 'queued') return { kind: 'noop', reason: touchpoint.status };
  // A job queued for an earlier due time (the touchpoint was postponed since) does nothing.
  if (touchpoint.dueAt.getTime() !== job.dueAtMs) return { kind: 'noop', reason: 'stale' };

  const now = ctx.clock.now();
  const render: Renderer = async (surroundings) =>
    renderTouchpoint(trx, {
      touchpoint,
      customer,
      surroundings,
      now,
      links: trackingLinks(await ctx.signingKey(), ctx.publicUrl, {
        workspaceId: touchpoint.workspaceId,
        touchpointId: touchpoint.id,
      }),
    });
  const decision = await decideDispatch(trx, {
    touchpoint,
    customer,
    now,
    render,
    smtp: ctx.email !== undefined,
  });
  const finish = (status: string, change: Omit<TouchpointChange, 'status'>, event?: OutgoingEventType) =>
    settle(ctx, trx, { touchpoint, customer, status, change, event, now });

  switch (decision.kind) {
    case 'cancel':
      return finish('cancelled', { statusReason: decision.reason });
    case 'skip':
      return finish('skipped', {
        statusReason: decision.reason,
        ...(decision.rendered ? renderedFields(decision.rendered) : {}),
      });
    case 'fail': {
      // The attempt keeps the why (the template's own error) for the person who fixes it.
      const outcome = await finish(
        'failed',
        { statusReason: decision.reason, countAttempt: true },
        'touchpoint.failed',
      );
      if (outcome.kind === 'settled') {
        await insertAttempt(trx, {
          workspaceId: touchpoint.workspaceId,
          touchpointId: touchpoint.id,
          attempt: touchpoint.attempts + 1,
          at: now,
          status: 'failed',
          error: decision.detail.slice(0, 500),
          providerMessageId: null,
        });
      }
      return outcome;
    }
    case 'postpone': {
      await changeTouchpoint(
        trx,
        touchpoint.workspaceId,
        touchpoint.id,
        ['queued'],
        { status: 'scheduled', statusReason: decision.reason, dueAt: decision.until, queuedAt: null },
        now,
      );
      ctx.metrics.outcomes.inc({ channel: touchpoint.channel, status: 'postponed' });
      return { kind: 'postponed', until: decision.until, reason: decision.reason };
    }
    case 'send': {
      const fields = renderedFields(decision.rendered);
      if (touchpoint.channel === 'task')
        return finish('pending', { statusReason: null, ...fields }, 'task.created');
      if (touchpoint.channel === 'webhook') {
        // The webhook deliveries (outbox relay) carry it from here and settle it sent or failed.
        return finish('sending', { statusReason: null, ...fields }, 'touchpoint.due');
      }
      await changeTouchpoint(
        trx,
        touchpoint.workspaceId,
        touchpoint.id,
        ['queued'],
        { status: 'sending', statusReason: null, ...fields },
        now,
      );
      const content = decision.rendered.content as EmailDelivery['content'];
      return { kind: 'deliver', delivery: { touchpoint, customer, content } };
    }
  }
}

function renderedFields(rendered: { content: StoredContent; templateVersion: number; variant: string }) {
  return { content: rendered.content, templateVersion: rendered.templateVersion, variant: rendered.variant };
}

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
