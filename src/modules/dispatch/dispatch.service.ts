import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { DB } from '../../db/types.js';
import { emitEvent, type OutgoingEventType, touchpointEventData } from '../outbox/outbox.js';
import { trackingLinks } from '../tracking/tracking-links.js';
import {
  changeTouchpoint,
  type DispatchTouchpointRow,
  insertAttempt,
  type LockedCustomer,
  lockCustomer,
  lockTouchpoint,
  peekTouchpoint,
  type TouchpointChange,
} from './dispatch.repository.js';
import { decideDispatch, type Renderer } from './dispatch-decision.js';
import type { DispatchMetrics } from './dispatch-metrics.js';
import type { DispatchJobData } from './dispatch-queue.js';
import { type EmailSender, htmlFromText, messageIdFor, withOpenPixel } from './email-sender.js';
import type { StoredContent } from './render-touchpoint.js';
import { renderTouchpoint } from './render-touchpoint.js';

export interface DispatchContext {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly publicUrl: string;
  readonly emailFrom: string;
  readonly signingKey: () => Promise<Buffer>;
  /** Undefined when SMTP_URL is not set: emails are rendered and stored, not sent. */
  readonly email: EmailSender | undefined;
  readonly metrics: DispatchMetrics;
}

/** What became of one run of a dispatch job; the processor maps it onto BullMQ. */
export type DispatchOutcome =
  | { readonly kind: 'noop'; readonly reason: string }
  | { readonly kind: 'settled'; readonly status: string; readonly reason?: string | null }
  | { readonly kind: 'postponed'; readonly until: Date; readonly reason: string }
  /** Recorded as failed; retrying cannot help. */
  | { readonly kind: 'rejected'; readonly error: string }
  /** Recorded as a failed attempt; the touchpoint stays `sending` for the next one. */
  | { readonly kind: 'retry'; readonly error: string };

export interface AttemptInfo {
  /** True on the job's last attempt: a temporary failure then becomes final. */
  readonly final: boolean;
}

/** The touchpoint and customer an email is for, with its frozen content. */
interface EmailDelivery {
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
  readonly content: StoredContent & { readonly channel: 'email' };
}

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
  const peek = await peekTouchpoint(ctx.db, job.workspaceId, job.touchpointId);
  if (!peek) return { kind: 'noop', reason: 'gone' };
  const step = await ctx.db.transaction().execute((trx) => decideAndRecord(ctx, trx, peek.customerId, job));
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
  if (!touchpoint || !customer) return { kind: 'noop', reason: 'gone' };
  if (touchpoint.status === 'sending' && touchpoint.channel === 'email' && touchpoint.contentText) {
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

/** Writes a status with its outbox event in the caller's transaction, and counts it. */
async function settle(
  ctx: DispatchContext,
  trx: Transaction<DB>,
  s: {
    readonly touchpoint: DispatchTouchpointRow;
    readonly customer: LockedCustomer;
    readonly status: string;
    readonly change: Omit<TouchpointChange, 'status'>;
    readonly event?: OutgoingEventType;
    readonly now: Date;
    /** True when recording the outcome of an email delivery (the touchpoint is `sending`). */
    readonly delivered?: boolean;
    /** The frozen content, when the change does not carry it. */
    readonly content?: unknown;
  },
): Promise<DispatchOutcome> {
  const { touchpoint: tp, customer } = s;
  // Deciding moves it out of `queued`; recording a delivery, out of `sending`.
  const from = s.delivered ? ['sending'] : ['queued'];
  const changed = await changeTouchpoint(
    trx,
    tp.workspaceId,
    tp.id,
    from,
    { status: s.status, ...s.change },
    s.now,
  );
  if (changed === undefined) return { kind: 'noop', reason: 'moved' };
  if (s.event) {
    const content = s.change.content ?? s.content ?? (tp.contentText ? JSON.parse(tp.contentText) : null);
    await emitEvent(trx, {
      workspaceId: tp.workspaceId,
      type: s.event,
      at: s.now,
      // touchpoint.due names its endpoint and is emitted once per touchpoint (its id is the cause).
      ...(s.event === 'touchpoint.due' ? { id: tp.id, endpointId: tp.endpointId } : {}),
      data: touchpointEventData(eventSource(tp, customer, s.status), content),
    });
  }
  ctx.metrics.outcomes.inc({ channel: tp.channel, status: s.status });
  if (s.status === 'sent' || s.status === 'pending' || (s.status === 'sending' && tp.channel === 'webhook')) {
    ctx.metrics.lag.observe(
      { channel: tp.channel },
      Math.max(0, (s.now.getTime() - tp.dueAt.getTime()) / 1000),
    );
  }
  return { kind: 'settled', status: s.status, reason: s.change.statusReason ?? null };
}

function eventSource(tp: DispatchTouchpointRow, customer: LockedCustomer, status: string) {
  return {
    id: tp.id,
    playbookKey: tp.playbookKey,
    stepKey: tp.stepKey,
    channel: tp.channel,
    dueAt: tp.dueAt,
    status,
    customerExternalId: customer.externalId,
    customerName: customer.name,
    customerEmail: customer.email,
    customerPhone: customer.phone,
    customerSegment: customer.segment,
  };
}

/** Sends a frozen email and records the attempt and, unless it is to be retried, the outcome. */
async function deliverEmail(
  ctx: DispatchContext,
  delivery: EmailDelivery,
  attempt: AttemptInfo,
): Promise<DispatchOutcome> {
  const { touchpoint: tp, customer, content } = delivery;
  const sender = ctx.email;
  const to = customer.email;
  if (!sender || !to) {
    // Only reachable for a touchpoint frozen before SMTP_URL was unset or the address erased.
    return ctx.db.transaction().execute((trx) =>
      settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'skipped',
        change: { statusReason: sender ? 'no_address' : 'smtp_not_configured' },
        now: ctx.clock.now(),
        delivered: true,
        content,
      }),
    );
  }
  const links = trackingLinks(await ctx.signingKey(), ctx.publicUrl, {
    workspaceId: tp.workspaceId,
    touchpointId: tp.id,
  });
  const messageId = tp.providerMessageId ?? messageIdFor(tp.id, ctx.publicUrl);
  const result = await sender.send({
    from: ctx.emailFrom,
    to,
    subject: content.subject,
    html: withOpenPixel(content.html ?? htmlFromText(content.text), links.openPixel),
    text: content.text,
    messageId,
    unsubscribeUrl: links.unsubscribe,
  });
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const record = (status: 'succeeded' | 'failed', error: string | null, number: number) =>
      insertAttempt(trx, {
        workspaceId: tp.workspaceId,
        touchpointId: tp.id,
        attempt: number,
        at: now,
        status,
        error,
        providerMessageId: messageId,
      });
    if (result.ok) {
      const outcome = await settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'sent',
        // delivered_at: when the receiving SMTP server accepted the message (its 250 answer).
        change: {
          statusReason: null,
          sentAt: now,
          deliveredAt: now,
          providerMessageId: messageId,
          countAttempt: true,
        },
        event: 'touchpoint.sent',
        now,
        delivered: true,
        content,
      });
      if (outcome.kind === 'settled') await record('succeeded', null, tp.attempts + 1);
      return outcome;
    }
    if (result.permanent || attempt.final) {
      const reason = result.permanent ? 'smtp_rejected' : 'smtp_unavailable';
      const outcome = await settle(ctx, trx, {
        touchpoint: tp,
        customer,
        status: 'failed',
        change: { statusReason: reason, providerMessageId: messageId, countAttempt: true },
        event: 'touchpoint.failed',
        now,
        delivered: true,
        content,
      });
      if (outcome.kind === 'settled') await record('failed', result.error, tp.attempts + 1);
      return { kind: 'rejected', error: result.error };
    }
    const count = await changeTouchpoint(
      trx,
      tp.workspaceId,
      tp.id,
      ['sending'],
      { status: 'sending', providerMessageId: messageId, countAttempt: true },
      now,
    );
    if (count !== undefined) await record('failed', result.error, count);
    return { kind: 'retry', error: result.error };
  });
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
